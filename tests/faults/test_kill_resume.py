"""The SIGKILL/resume part of the standing fault-injection suite (issue 16).

One uninterrupted quick-profile run is the reference. A second run is SIGKILLed once inside
every stage, in order: the test watches the run's ``log.txt`` for the stage starting, waits
a seeded share of the stage's reference duration, kills the whole process group (curation's
worker processes and the sandbox's children die with it), and starts ``--resume``, which the
next kill interrupts in turn. The last resume runs to the end. Then every stage's artifacts
(each file the manifest lists), counts and metrics must equal the reference run's.

What may differ between two uninterrupted runs is left out of the comparison, and only that:
wall-clock fields (``seconds``, ``*_seconds``, ``seconds.*``, ``started``, ``tokens_per_s``,
``mfu``), the run folder's own path, the report's charts of stage timings and training
throughput and its header's start time, and the last bits
of a float (lingua's language confidences differ in their final digits from run to run;
compared to 1e-9 relative).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SEED = 16
# The quick profile's stages with the code and multilingual plugins, in the order they run.
STAGES = ("curate", "mix", "pretrain", "code_expert", "posttrain", "evaluate", "report")
COMMAND = [sys.executable, str(REPO / "cli.py"), "run", "--profile", "quick", "--plugins", "code,multilingual"]
WAIT_S = 300  # for a stage to start, or a run to end: far above the quick profile's minute

VOLATILE_KEYS = frozenset({"seconds", "started", "tokens_per_s", "mfu"})
# report: the charts of stage durations and of training throughput (pictures of wall-clock time).
VOLATILE_FILES = frozenset({("report", "timings.png"), ("report", "training_throughput.png")})
TIMING_CELL = (
    re.compile(r"^(\| [^|]+ \| [^|]+ \| )[0-9.]+( \|)", re.M),  # report.md's Stages table
    re.compile(r"(<tr><td>[^<]+</td><td>[^<]+</td><td>)[0-9.]+(</td>)"),  # report.html's
    re.compile(r"^(\| started \| )[^|]+( \|)", re.M),  # the header's start time, in report.md
    re.compile(r"(<tr><td>started</td><td>)[^<]+(</td>)"),  # and in report.html
)
EMBEDDED_PNG = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


@dataclass
class Kill:
    stage: str
    delay_s: float
    inside: bool  # the stage had not completed when the kill landed


def _start(run_dir: Path, resume: bool) -> subprocess.Popen:
    command = COMMAND + ["--run-dir", str(run_dir)] + (["--resume"] if resume else [])
    # The console output goes to a file (a pipe nobody reads while waiting could fill and
    # stall the run); a session of its own lets the kill reach every process the run started.
    with _console(run_dir).open("a", encoding="utf-8") as console:
        return subprocess.Popen(command, stdout=console, stderr=subprocess.STDOUT, start_new_session=True)


def _console(run_dir: Path) -> Path:
    return run_dir.parent / f"{run_dir.name}.console.txt"


def _log_size(run_dir: Path) -> int:
    log = run_dir / "log.txt"
    return log.stat().st_size if log.exists() else 0


def _wait_for_stage(proc: subprocess.Popen, run_dir: Path, stage: str, offset: int) -> bool:
    """True once this process logs ``stage`` starting (fresh or resumed); False when the
    process ends first (the stage was already complete)."""
    pattern = re.compile(rf"stage {re.escape(stage)}\s+(running|resuming) \(plugin")
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        log = run_dir / "log.txt"
        if log.exists():
            with log.open("rb") as handle:
                handle.seek(offset)
                if pattern.search(handle.read().decode("utf-8", "replace")):
                    return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"stage {stage} did not start within {WAIT_S}s in {run_dir}")


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)


def _finish(proc: subprocess.Popen, run_dir: Path, what: str) -> None:
    proc.wait(timeout=WAIT_S)
    assert proc.returncode == 0, f"{what} exited {proc.returncode}:\n{_console(run_dir).read_text()[-3000:]}"


def _manifest(run_dir: Path, stage: str) -> dict[str, Any]:
    return json.loads((run_dir / stage / "manifest.json").read_text(encoding="utf-8"))


def _killed_run(run_dir: Path, durations: dict[str, float]) -> list[Kill]:
    rng = random.Random(SEED)
    kills: list[Kill] = []
    proc = _start(run_dir, resume=False)
    offset = 0
    for stage in STAGES:
        if not _wait_for_stage(proc, run_dir, stage, offset):
            break
        # Somewhere in the middle of the stage as the reference run timed it.
        delay = round(rng.uniform(0.1, 0.7) * durations[stage], 3)
        time.sleep(delay)
        _kill(proc)
        kills.append(Kill(stage, delay, not (run_dir / stage / "manifest.json").exists()))
        offset = _log_size(run_dir)
        proc = _start(run_dir, resume=True)
    _finish(proc, run_dir, "the last --resume")
    return kills


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path, list[Kill]]:
    root = tmp_path_factory.mktemp("kill_resume")
    reference, killed = root / "reference", root / "killed"
    _finish(_start(reference, resume=False), reference, "the uninterrupted run")
    durations = {stage: float(_manifest(reference, stage)["seconds"]) for stage in STAGES}
    kills = _killed_run(killed, durations)
    print("kills:", ", ".join(f"{k.stage}@{k.delay_s}s{'' if k.inside else ' (after it ended)'}" for k in kills))
    return reference, killed, kills


def _normal(value: Any, root: str) -> Any:
    """``value`` without what differs between two uninterrupted runs."""
    if isinstance(value, dict):
        return {k: _normal(v, root) for k, v in value.items()
                if k not in VOLATILE_KEYS and not k.startswith("seconds.") and not k.endswith("_seconds")}
    if isinstance(value, list):
        return [_normal(v, root) for v in value]
    if isinstance(value, str):
        return value.replace(root, "<run>")
    return value


def _differences(a: Any, b: Any, where: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{where}[{i}]")]
    if isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
        return []
    return [] if a == b else [f"{where}: {str(a)[:120]!r} != {str(b)[:120]!r}"]


def _content(path: Path, root: Path) -> Any:
    name = path.name
    if name.endswith(".jsonl.gz") or name.endswith(".jsonl"):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            return _normal([json.loads(line) for line in handle if line.strip()], str(root))
    if name.endswith(".json"):
        return _normal(json.loads(path.read_text(encoding="utf-8")), str(root))
    if name.endswith((".md", ".html", ".txt", ".toml")):
        text = EMBEDDED_PNG.sub("<png>", path.read_text(encoding="utf-8")).replace(str(root), "<run>")
        for cell in TIMING_CELL:
            text = cell.sub(r"\1<s>\2", text)
        return text
    return None  # binary: its hash decides


def _stage_differences(reference: Path, killed: Path, stage: str) -> list[str]:
    want, got = _manifest(reference, stage), _manifest(killed, stage)
    problems = _differences(_normal(want["counts"], ""), _normal(got["counts"], ""), "counts")
    problems += _differences(_normal(want["metrics"], str(reference)), _normal(got["metrics"], str(killed)), "metrics")
    missing = sorted(set(want["outputs"]) ^ set(got["outputs"]))
    problems += [f"{name}: in one run only" for name in missing]
    for name in sorted(set(want["outputs"]) & set(got["outputs"])):
        if (stage, name) in VOLATILE_FILES or want["outputs"][name]["sha256"] == got["outputs"][name]["sha256"]:
            continue
        a, b = _content(reference / stage / name, reference), _content(killed / stage / name, killed)
        if a is None:
            problems.append(f"{name}: the bytes differ")
        else:
            problems += [f"{name}: {d}" for d in _differences(a, b, "")[:5]]
    return problems


def test_every_stage_was_killed_and_the_resume_completed(runs):
    _, killed, kills = runs
    assert [k.stage for k in kills] == list(STAGES)
    assert all((killed / stage / "manifest.json").exists() for stage in STAGES)
    assert not list(killed.glob("*.partial"))


@pytest.mark.parametrize("stage", STAGES)
def test_resumed_stage_matches_an_uninterrupted_run(runs, stage):
    reference, killed, _ = runs
    problems = _stage_differences(reference, killed, stage)
    assert not problems, f"stage {stage} after SIGKILL + --resume differs from the uninterrupted run:\n  " + \
        "\n  ".join(problems[:20])
