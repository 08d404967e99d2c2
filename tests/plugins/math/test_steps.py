"""The step checker on single lines and on the shipped worked solutions."""

import json
from pathlib import Path

import pytest

from herd.plugins.math.steps import check_line, check_solution

CORRECT_LINES = [
    "Janet sells 16 - 3 - 4 = 9 duck eggs a day.",
    "She makes 9 * 2 = $18 every day at the farmer's market.",
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.",
    "$80,000*1.5=$120,000",
    "Half of 18 is 9.",
    "20% of 50 is 10 dollars.",
    "(3 + 4) * 2 = 14 apples",
    "10 / 3 = 3.33 pounds each",
    "8/20 * 100 = 40%",
    "He runs 3 x 4 = 12 miles",
    "3 times 4, which is 12",
    "2 + 3 = 5 + 1 = 6",
    "It costs $1.50 x 4 = $6.00.",
]
WRONG_LINES = [
    "Janet sells 16 - 3 - 4 = 10 duck eggs a day.",
    "Janet sells 16 - 3 - 4 = <<16-3-4=10>>10 duck eggs a day.",
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>10 duck eggs a day.",
    "$80,000*1.5=$130,000",
    "Half of 18 is 8.",
    "10 / 3 = 3",
    "2 + 3 = 5 + 1 = 7",
]
NOT_CLAIMS = ["3/2x = 120", "So x = 5", "2x + 3 = 7", "2 hours * 60 = 120 minutes", "The total is 45 dollars.",
              "#### 18", "if a == 3 + 4:"]


@pytest.mark.parametrize("line", CORRECT_LINES)
def test_correct_claims_are_read_and_never_flagged(line):
    claims = check_line(line)
    assert claims and all(c.correct for c in claims), claims


@pytest.mark.parametrize("line", WRONG_LINES)
def test_wrong_claims_are_flagged(line):
    assert any(not c.correct for c in check_line(line))


@pytest.mark.parametrize("line", NOT_CLAIMS)
def test_equations_and_unreadable_text_are_not_claims(line):
    assert check_line(line) == []


def test_first_wrong_step_is_the_line_index():
    solution = "She has 3 + 4 = 7 apples.\nShe eats 2.\n7 - 2 = 6 are left.\n6 * 2 = 12"
    checked = check_solution(solution)
    assert checked.first_wrong_step == 2
    assert [s.index for s in checked.steps] == [0, 1, 2, 3]
    assert check_solution(solution.split("\n")).first_wrong_step == 2


def test_shipped_solutions_meet_the_detection_goals():
    """Goals: first wrong step found in >= 95% (annotated) and >= 90% (plain), <= 1% false alarms."""
    path = Path(__file__).resolve().parents[3] / "plugins" / "math" / "data" / "step_solutions.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for annotated, goal in ((True, 0.95), (False, 0.90)):
        injected = [r for r in rows if r["annotated"] == annotated and r["injected_step"] is not None]
        clean = [r for r in rows if r["annotated"] == annotated and r["injected_step"] is None]
        found = sum(check_solution(r["solution"]).first_wrong_step == r["injected_step"] for r in injected)
        alarms = sum(check_solution(r["solution"]).first_wrong_step is not None for r in clean)
        assert found / len(injected) >= goal
        assert alarms / len(clean) <= 0.01
