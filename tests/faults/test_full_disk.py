"""The full-disk part of the standing fault-injection suite (issue 16): every stage of the
quick profile meets a full disk, and after space is freed ``--resume`` completes it.

The run directory is a small tmpfs mounted for this test (skipped, with the reason, where
the machine cannot mount one: it needs root). Stage by stage, in order: a ballast file
fills the tmpfs until only ``LEFT_BYTES`` are free (room for the run's own bookkeeping:
rewriting ``config.toml`` and a few log lines, less than any stage's outputs), then
``run --stages S --resume`` must stop with exit code 4 (``DiskFullError``, docs/reliability.md)
and the one message every write path gives: ``the disk is full: cannot write <path in the
run directory> ... re-run with --resume``. Stage S must not be marked complete (no
manifest), and every manifest there is must still describe its files byte for byte. Then
the ballast goes and ``--resume`` completes S.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
STAGES = ("curate", "mix", "pretrain", "code_expert", "posttrain", "evaluate", "report")
COMMAND = [sys.executable, str(REPO / "cli.py"), "run", "--profile", "quick", "--plugins", "code,multilingual"]
TMPFS_MB = 96  # a quick run takes about 30 MB
# config.toml (12 KB, rewritten through a temporary file) and the log's lines fit; the
# smallest stage's outputs (evaluate's, 44 KB) do not.
LEFT_BYTES = 24 * 1024
DISK_FULL = re.compile(r"herd: error: .*the disk is full: cannot write (?P<path>\S+?)[ .].*re-run with --resume")
EXIT_DISK_FULL = 4  # core.errors.DiskFullError.exit_code (a StageError)
TIMEOUT_S = 600


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    mount = tmp_path_factory.mktemp("full_disk") / "run"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip() or proc.returncode}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _ballast(run_dir: Path) -> Path:
    return run_dir / "ballast.bin"


def fill(run_dir: Path, left: int) -> None:
    """Leave ``left`` bytes free on the tmpfs holding ``run_dir``."""
    stats = os.statvfs(run_dir)
    free = stats.f_bavail * stats.f_frsize
    fd = os.open(_ballast(run_dir), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.posix_fallocate(fd, os.fstat(fd).st_size, max(0, free - left))
    finally:
        os.close(fd)


def run_stage(run_dir: Path, stage: str) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, "--run-dir", str(run_dir), "--stages", stage, "--resume"],
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def manifest_problems(run_dir: Path) -> list[str]:
    """Manifests (stages marked complete) whose files are missing or differ."""
    problems = []
    for manifest in sorted(run_dir.glob("*/manifest.json")):
        outputs = json.loads(manifest.read_text(encoding="utf-8"))["outputs"]
        for name, entry in outputs.items():
            path = manifest.parent / name
            if not path.is_file():
                problems.append(f"{path}: listed in {manifest} but missing")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
                problems.append(f"{path}: differs from {manifest}")
    return problems


@pytest.fixture(scope="module")
def outcomes(run_dir) -> dict[str, tuple[subprocess.CompletedProcess, list[str], subprocess.CompletedProcess]]:
    """Per stage, in order: the run on the full disk, what was wrong with the manifests
    right after it, and the ``--resume`` once the ballast is gone."""
    found = {}
    for stage in STAGES:
        fill(run_dir, LEFT_BYTES)
        full = run_stage(run_dir, stage)
        problems = manifest_problems(run_dir)
        if (run_dir / stage / "manifest.json").exists():
            problems.append(f"{stage}: marked complete on a full disk")
        _ballast(run_dir).unlink()
        found[stage] = (full, problems, run_stage(run_dir, stage))
        if found[stage][2].returncode != 0:
            break  # later stages read this one
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_a_full_disk_stops_the_stage_with_one_clear_error(outcomes, run_dir, stage):
    assert stage in outcomes, "an earlier stage did not complete after its --resume"
    full, problems, _ = outcomes[stage]
    assert full.returncode == EXIT_DISK_FULL, f"exit {full.returncode}:\n{full.stderr[-3000:]}"
    match = DISK_FULL.search(full.stderr)
    assert match, full.stderr[-3000:]
    assert Path(match["path"]).is_relative_to(run_dir), match["path"]  # names the file it could not write
    assert "Traceback" not in full.stderr.split("herd: error:")[-1]
    assert not problems, problems


@pytest.mark.parametrize("stage", STAGES)
def test_after_freeing_space_resume_completes_the_stage(outcomes, run_dir, stage):
    assert stage in outcomes, "an earlier stage did not complete after its --resume"
    _, _, resumed = outcomes[stage]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (run_dir / stage / "manifest.json").exists()
    assert not manifest_problems(run_dir)
