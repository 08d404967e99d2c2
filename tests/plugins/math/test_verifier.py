"""The answer verifier on real answer pairs, in both directions, per category."""

import json
from pathlib import Path

import pytest

from herd.plugins.math.extract import extract
from herd.plugins.math.verifier import AnswerVerifier

VERIFIER = AnswerVerifier(timeout_s=5.0)

EQUAL = [
    ("integers", "1234567", "1,234,567"),
    ("integers", "1234", "1234 apples"),
    ("integers", "5000", "5 000"),
    ("currency", "\\$18.50", "18.5"),
    ("currency", "$1,200", "1200 dollars"),
    ("decimals", "0.25", "\\frac{1}{4}"),
    ("decimals", "0.5", ".50"),
    ("fractions", "\\frac{3}{4}", "\\dfrac{3}{4}"),
    ("fractions", "\\frac{3}{4}", "6/8"),
    ("fractions", "\\frac12", "\\tfrac{1}{2}"),
    ("radicals", "2\\sqrt{3}", "\\sqrt{12}"),
    ("radicals", "\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"),
    ("radicals", "\\sqrt[3]{16}", "2\\sqrt[3]{2}"),
    ("pi", "\\frac{\\pi}{3}", "\\frac{2\\pi}{6}"),
    ("pi", "2\\pi", "2*pi"),
    ("scientific", "3.2\\times 10^{4}", "32000"),
    ("scientific", "3.2e-4", "0.00032"),
    ("degrees", "45^\\circ", "45"),
    ("degrees", "30^{\\circ}", "\\frac{\\pi}{6}"),
    ("percentages", "25\\%", "0.25"),
    ("percentages", "25\\%", "25"),
    ("sets", "\\{1, 2, 3\\}", "\\{3, 1, 2\\}"),
    ("sets", "\\{-2, 5\\}", "5, -2"),
    ("tuples", "(1, 2)", "\\left(1, 2\\right)"),
    ("intervals", "[1, 5)", "[1,5)"),
    ("intervals", "(-\\infty, 3]", "\\left(-\\infty, 3\\right]"),
    ("intervals", "(-\\infty, 1) \\cup (2, \\infty)", "(2, \\infty) \\cup (-\\infty, 1)"),
    ("equations", "x = 7", "7"),
    ("equations", "y = 2x + 3", "2x - y + 3 = 0"),
    ("symbolic", "x^2 + 2x + 1", "(x+1)^2"),
    ("symbolic", "\\frac{2x}{4}", "x/2"),
    ("exactness", "2^{-60}", "\\frac{1}{1152921504606846976}"),
    ("exactness", "0.3", "0.1 + 0.2"),
    ("words", "yes", "Yes"),
]

DIFFERENT = [
    ("integers", "1234567", "1,234,576"),
    ("integers", "1234", "1234.5"),
    ("currency", "\\$18.50", "18.05"),
    ("decimals", "0.25", "0.2500001"),
    ("fractions", "\\frac{3}{4}", "\\frac{4}{3}"),
    ("fractions", "\\frac{3}{4}", "3/5"),
    ("radicals", "2\\sqrt{3}", "3\\sqrt{2}"),
    ("radicals", "\\sqrt{2}", "1.4142135623730951"),
    ("pi", "\\frac{\\pi}{3}", "\\frac{\\pi}{4}"),
    ("pi", "\\pi", "3.14159265358979323846"),
    ("scientific", "3.2\\times 10^{4}", "3.2e5"),
    ("degrees", "45^\\circ", "\\frac{\\pi}{3}"),
    ("percentages", "25\\%", "2.5"),
    ("sets", "\\{1, 2, 3\\}", "\\{1, 2\\}"),
    ("tuples", "(1, 2)", "(2, 1)"),
    ("intervals", "[1, 5)", "(1, 5)"),
    ("intervals", "[1, 5)", "[1, 5]"),
    ("intervals", "[1, 5]", "(1, 5)"),
    ("equations", "x = 7", "x = -7"),
    ("equations", "x = 7", "y = 7"),
    ("equations", "y = 2x + 3", "y = 3x + 2"),
    ("symbolic", "x^2 + 2x + 1", "(x-1)^2"),
    ("exactness", "\\frac{1}{2^{57}}", "\\frac{1}{2^{56}}"),
    ("exactness", "2^{-60}", "2^{-61}"),
    ("exactness", "10^{20} + 1", "10^{20}"),
    ("exactness", "\\frac{1}{3}", "0.3333333333333333"),
    ("exactness", "1", "1.00000000000000000001"),
    ("words", "yes", "no"),
]


@pytest.mark.parametrize("category,a,b", EQUAL, ids=[f"{c}:{a}~{b}" for c, a, b in EQUAL])
def test_equal_pairs_are_accepted_both_ways(category, a, b):
    assert VERIFIER.compare(a, b).correct, (a, b, VERIFIER.compare(a, b))
    assert VERIFIER.compare(b, a).correct, (b, a, VERIFIER.compare(b, a))


@pytest.mark.parametrize("category,a,b", DIFFERENT, ids=[f"{c}:{a}!={b}" for c, a, b in DIFFERENT])
def test_different_values_are_never_accepted(category, a, b):
    for ref, ans in ((a, b), (b, a)):
        verdict = VERIFIER.compare(ref, ans)
        assert not verdict.correct and verdict.error is None, (ref, ans, verdict)


@pytest.mark.parametrize("k", [53, 56, 60, 64])
def test_powers_of_two_next_to_each_other_stay_apart(k):
    assert not VERIFIER.compare(f"\\frac{{1}}{{2^{{{k + 1}}}}}", f"\\frac{{1}}{{2^{{{k}}}}}").correct
    assert not VERIFIER.compare(f"\\frac{{\\pi}}{{2^{{{k + 1}}}}}", f"\\frac{{\\pi}}{{2^{{{k}}}}}").correct
    assert VERIFIER.compare(f"2^{{-{k}}}", f"\\frac{{1}}{{{2 ** k}}}").correct


@pytest.mark.parametrize("response,found", [
    ("So the total is \\boxed{\\frac{1}{2}} dollars.", "\\frac{1}{2}"),
    ("first \\boxed{3}, then corrected: \\boxed{4}", "4"),
    ("Janet makes 9 * 2 = $18 a day.\n#### 18", "18"),
    ("Therefore, the answer is $x = 7$.", "x = 7"),
    ("The final answer is 3.5. I hope it is correct.", "3.5"),
    ("She has 5 apples and gets 7 more, 12 in all", "12"),
    ("We find $a=2$ and then $a+b = 10$", "a+b = 10"),
])
def test_final_answer_extraction(response, found):
    assert extract(response) == found


def test_verify_reads_the_final_answer_from_free_text():
    verdict = VERIFIER.verify("\\frac{1}{2}", "Half the cake is left, so the answer is $0.5$.")
    assert verdict.correct and verdict.extracted == "0.5"
    verdict = VERIFIER.verify("#### 72", "48 + 24 = 72 clips.\n#### 72")
    assert verdict.correct


@pytest.mark.parametrize("reference,response,message", [
    ("\\frac{1}{", "\\boxed{1}", "reference answer"),
    ("3", "\\boxed{\\frac{1}{}", "response answer"),
    ("3", "\\boxed{\\unknowncommand{2}}", "unknown LaTeX command"),
    ("3", "no answer in here", "no final answer"),
    ("3", "\\boxed{2^{10^{10}}}", "too large"),
    ("3", "\\boxed{10^{10^{10^{10}}}}", "too large"),
])
def test_unreadable_answers_get_an_error_and_are_not_correct(reference, response, message):
    verdict = VERIFIER.verify(reference, response)
    assert not verdict.correct and message in verdict.error


def test_shipped_pairs_are_all_judged_right():
    """The whole labelled set (1,000 pairs): precision 1 and recall 1 on it."""
    path = Path(__file__).resolve().parents[3] / "plugins" / "math" / "data" / "equivalence_pairs.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 1000 and {r["category"] for r in rows} >= {"sets", "intervals", "exactness"}
    wrong = [r for r in rows if VERIFIER.compare(r["reference"], r["answer"]).correct != r["equal"]]
    assert wrong == []
