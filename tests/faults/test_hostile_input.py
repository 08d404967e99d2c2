"""The hostile-input part of the standing fault-injection suite (issue 16): the corpus of
``hostile_corpus.py`` through the real ``cli.py curate``, every case checked against its
expected outcome, every input record accounted for (kept or dropped with a reason), and
no run hangs or crashes. The SIGKILL/resume, sandbox-probe and full-disk parts of the
suite live beside this file when they exist."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from herd.lib.documents import read_kept

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_corpus import KEPT, MAX_DOCUMENT_CHARS, STEPS, Case, write  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def curate(inputs: Path, out: Path, *extra: str, fmt: str = "jsonl", timeout: int = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, str(REPO / "cli.py"), "-q", "curate", "--input", str(inputs), "--output", str(out),
               "--steps", STEPS, "--workers", "2", "--format", fmt,
               "--set", "curate.progress=false", "--set", f"curate.max_document_chars={MAX_DOCUMENT_CHARS}", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def dropped_index(out: Path) -> Counter:
    """Dropped records as ``(file name, id, reason)`` and ``(file name, "", reason)``."""
    found: Counter = Counter()
    for path in sorted((out / "dropped").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                name = Path(record["source_file"]).name
                found[(name, record["id"], record["reason"])] += 1
                found[(name, "", record["reason"])] += 1
    return found


def kept_index(out: Path) -> Counter:
    """Kept records by id, by ``url:<url>``, and by input file (``("file", name)``) for
    the cut file whose surviving lines are not known in advance (a kept record does not
    name its file; those ids start ``cut-``)."""
    counts: Counter = Counter()
    for doc in read_kept(out / "kept"):
        counts[doc.id] += 1
        if doc.url:
            counts[f"url:{doc.url}"] += 1
        if doc.id.startswith("cut-"):
            counts[("file", "cut.jsonl.gz")] += 1
    return counts


def check(case: Case, dropped: Counter, kept: Counter, funnel: dict, inputs: Path) -> list[str]:
    """What is wrong with ``case``'s outcome (nothing when it passed)."""
    problems = []
    for expect in case.expects:
        key = expect.key.replace("{inputs}", str(inputs))
        if expect.outcome == KEPT:
            have = kept[key] if key else kept[("file", expect.file)]
        else:
            have = dropped[(expect.file, key, expect.outcome)]
        if (have < expect.count) if expect.at_least else (have != expect.count):
            problems.append(f"{expect.file} {key or '(any record)'}: {have} x {expect.outcome}, expected "
                            f"{'at least ' if expect.at_least else ''}{expect.count}")
    unread = {Path(u["path"]).name for u in funnel["unread_inputs"]}
    problems += [f"{name} not reported as unread" for name in case.unread if name not in unread]
    return problems


def run_corpus(tmp_path: Path, fmt: str) -> tuple[dict[str, list[str]], dict]:
    """Generate the corpus, curate it, and check every case: (problems by case, funnel)."""
    cases = write(tmp_path / "corpus")
    inputs = tmp_path / "corpus" / "inputs"
    out = tmp_path / "out"
    proc = curate(inputs, out, fmt=fmt)
    assert proc.returncode == 0, proc.stderr[-3000:]
    funnel = json.loads((out / "funnel.json").read_text())
    dropped, kept = dropped_index(out), kept_index(out)
    return {case.name: check(case, dropped, kept, funnel, inputs) for case in cases}, funnel


def assert_all_cases_pass(results: dict[str, list[str]], funnel: dict) -> None:
    failed = {name: problems for name, problems in results.items() if problems}
    print(f"hostile-input cases: {len(results)} tried, {len(results) - len(failed)} passed")
    assert not failed, json.dumps(failed, indent=2)
    # conservation: every record read ends kept or dropped with a reason
    assert funnel["conserved"] and funnel["records_in"] == funnel["kept"]["records"] + funnel["dropped"]["records"]


def test_hostile_corpus_through_curate(tmp_path):
    results, funnel = run_corpus(tmp_path, "jsonl")
    assert_all_cases_pass(results, funnel)
    utf7 = [d for d in read_kept(tmp_path / "out" / "kept") if d.url == "https://utf7.example/"]
    assert "\ufffd" in utf7[0].text  # the lone surrogate, replaced


@pytest.mark.slow
def test_hostile_corpus_with_parquet_output(tmp_path):
    """The same corpus written as Parquet: bad scores never reach the writer (ArrowInvalid)."""
    results, funnel = run_corpus(tmp_path, "parquet")
    assert_all_cases_pass(results, funnel)


def test_an_extraction_over_its_time_budget_is_dropped_not_hung(tmp_path):
    """A page deep enough to take seconds (the depth bound raised out of the way) against a
    50 ms budget: the worker kills the extraction and drops the page."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    slow = "<html><body>" + "<div>" * 8000 + "deep words here" + "</div>" * 8000 + "</body></html>"
    (inputs / "slow.jsonl").write_text(json.dumps({"id": "slow", "html": slow}) + "\n"
                                       + json.dumps({"id": "after", "text": "a plain document after it"}) + "\n")
    proc = curate(inputs, tmp_path / "out", "--set", "extractors.html_text.max_depth=1000000",
                  "--set", "curate.extract_time_budget_s=0.05", timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    funnel = json.loads((tmp_path / "out" / "funnel.json").read_text())
    assert funnel["dropped"]["by_reason"] == {"html_text.timeout": 1}
    assert funnel["kept"]["records"] == 1 and funnel["conserved"]


def test_an_unreadable_file_can_be_an_error(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.jsonl").write_text(json.dumps({"id": "a", "text": "some words"}) + "\n")
    (inputs / "data.csv").write_text("x\n")
    proc = curate(inputs, tmp_path / "out", "--set", 'curate.unread_files="error"', timeout=120)
    assert proc.returncode == 5 and "data.csv" in proc.stderr and "read by no source" in proc.stderr
