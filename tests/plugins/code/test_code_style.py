"""The static style rubric: each check on real code."""

from __future__ import annotations

from herd.plugins.code.style import style_of

GOOD = '''def mean(values):
    """Return the arithmetic mean of ``values`` (0.0 for an empty list)."""
    if not values:
        return 0.0
    return sum(values) / len(values)
'''


def test_clean_documented_code_scores_full_marks():
    report = style_of(GOOD)
    assert report.score == 1.0 and report.issues == []
    assert set(report.checks) == {"parses", "readable_line_length", "lint_clean", "documented", "shallow_nesting",
                                  "complete", "specific_exceptions"}


def test_each_problem_costs_one_check_and_is_named():
    messy = ("import os\n\ndef f(x):\n    try:\n        return 1 / x  # " + "long " * 30 + "\n"
             "    except:\n        pass\n\ndef g():\n    raise NotImplementedError\n")
    report = style_of(messy)
    failed = {name for name, ok in report.checks.items() if not ok}
    assert failed == {"readable_line_length", "lint_clean", "documented", "complete", "specific_exceptions"}
    text = report.feedback()
    assert "'os' imported but unused" in text and "bare `except:`" in text and "g has an empty body" in text
    assert abs(report.score - 2 / 7) < 1e-9


def test_code_that_does_not_parse_scores_zero_with_the_position():
    report = style_of("def f(:\n    return 1\n")
    assert report.score == 0.0 and report.checks == {"parses": False}
    assert "line 1, column" in report.feedback()


def test_deep_nesting_and_other_languages():
    ifs = "".join("    " * (i + 1) + f"if x > {i}:\n" for i in range(5))
    nested = 'def f(x):\n    """Deep."""\n' + ifs + "    " * 6 + "return x\n"
    assert style_of(nested).checks["shallow_nesting"] is False
    lua = style_of("function add(a, b)\n  return a + b\nend\n", "lua")
    assert lua.score == 1.0 and set(lua.checks) == {"parses", "readable_line_length"}
