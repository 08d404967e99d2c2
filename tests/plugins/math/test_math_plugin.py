"""The math plugin through its public surfaces: the commands on real files (subprocess)
and the judges on SFT rows."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from herd.core.records import ChatMessage, SFTRow
from herd.plugins.math.judges import MathAnswer, MathSteps

ROOT = Path(__file__).resolve().parents[3]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          env=env, timeout=120)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow  # a CLI subprocess: a few seconds on a loaded machine
def test_verify_command_keeps_every_row(tmp_path):
    src = _write(tmp_path / "in.jsonl", [
        json.dumps({"id": 1, "reference": "\\frac{1}{2}", "response": "so the answer is $0.5$."}),
        json.dumps({"id": 2, "reference": "\\frac{1}{2^{57}}", "response": "\\boxed{\\frac{1}{2^{56}}}"}),
        json.dumps({"id": 3, "response": "42"}),
        "{not json",
        json.dumps({"id": 5, "reference": "7", "response": "\\boxed{\\frac{7}{}"}),
        json.dumps({"id": 6, "reference": "[1, 5)", "response": "The interval is \\boxed{[1,5)}."}),
    ])
    out = tmp_path / "out.jsonl"
    result = _cli("math", "verify", "--input", str(src), "--output", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6
    assert [r["correct"] for r in rows] == [True, False, False, False, False, True]
    assert rows[0]["extracted"] == "0.5"
    assert "missing field 'reference'" in rows[2]["error"]
    assert f"{src}:4" in rows[3]["error"] and f"{src}:4" in result.stderr
    assert "does not parse" in rows[4]["error"]
    assert json.loads(result.stdout.strip().splitlines()[-1])["correct"] == 2


@pytest.mark.slow  # a CLI subprocess: a few seconds on a loaded machine
def test_check_steps_command(tmp_path):
    src = _write(tmp_path / "in.jsonl", [
        json.dumps({"question": "q", "solution": "16 - 3 - 4 = <<16-3-4=9>>9 eggs\n9 * 2 = <<9*2=18>>18\n#### 18"}),
        json.dumps({"question": "q", "solution": ["She has 3 + 4 = 7 apples.", "7 * 2 = 15 halves."]}),
        json.dumps({"question": "q"}),
    ])
    out = tmp_path / "out.jsonl"
    result = _cli("math", "check-steps", "--input", str(src), "--output", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["first_wrong_step"] for r in rows] == [None, 1, None]
    assert rows[0]["steps"][0]["claims"][0]["computed"] == "9"
    assert "solution" in rows[2]["error"]


@pytest.mark.slow  # a CLI subprocess: a few seconds on a loaded machine
def test_missing_input_file_is_a_clear_error(tmp_path):
    result = _cli("math", "verify", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl"))
    assert result.returncode == 5 and "nope.jsonl" in result.stderr


def _row(answer: str, capability: str = "math", **metadata) -> SFTRow:
    return SFTRow(id="r", messages=[ChatMessage("user", "q"), ChatMessage("assistant", answer)],
                  capability=capability, metadata=metadata)


def test_answer_judge_scores_rows_with_a_reference():
    judge = MathAnswer()
    scores = judge.score([_row("\\boxed{\\sqrt{8}}", reference="2\\sqrt{2}"), _row("\\boxed{3}", reference="4"),
                          _row("\\boxed{3}")])
    assert [s[0].value for s in scores] == [1.0, 0.0, None]
    assert scores[0][0].judge == "math_answer" and scores[0][0].signal == "correct"


def test_steps_judge_scores_math_rows_only():
    judge = MathSteps()
    scores = judge.score([_row("3 + 4 = 7\n7 * 2 = 14"), _row("3 + 4 = 8"), _row("no arithmetic"),
                          _row("3 + 4 = 8", capability="code")])
    assert [s[0].value for s in scores] == [1.0, 0.0, None, None]
    assert "3 + 4 is 7, not 8" in scores[1][0].reason


def test_plugin_registers_its_judges_and_command():
    from herd.core.plugins import load_plugins

    loaded = load_plugins(["math"])
    judges = loaded.registry.components["judges"]
    assert judges["math_answer"].options["kind"] == "verifier"
    assert judges["math_steps"].options["kind"] == "verifier"
    assert "math" in loaded.registry.components["commands"]
