"""Static analysis: syntax errors with positions in several languages, pyflakes for
Python, and feedback text that names line, column and the offending source line."""

from __future__ import annotations

import pytest

from herd.plugins.code.static_analysis import analyze, canonical_language


@pytest.mark.parametrize("language, good, bad, line", [
    ("python", "def f(x):\n    return x + 1\n", "def f(x:\n    return x + 1\n", 1),
    ("lua", "local function f(x)\n  return x + 1\nend\n", "local function f(x)\n  return x + \nend\n", 3),
    ("perl", "sub f { my ($x) = @_; return $x + 1; }\n", "sub f { my ($x) = @_;\n return $x + ; }\n", 2),
    ("javascript", "function f(x) { return x + 1; }\n", "function f(x) {\n  return x + ;\n}\n", 2),
    ("ruby", "def f(x)\n  x + 1\nend\n", "def f(x)\n  x + \n", 2),
])
def test_syntax_errors_are_found_with_positions(language, good, bad, line):
    assert analyze(good, language).ok
    result = analyze(bad, language)
    assert not result.ok
    assert result.errors[0].line >= line - 1
    text = result.feedback(bad)
    assert f"line {result.errors[0].line}, column {result.errors[0].column}" in text


def test_python_undefined_names_are_errors_and_unused_imports_warnings():
    code = "import os\n\ndef f(x):\n    return x + y\n"
    result = analyze(code, "py")
    assert not result.ok
    [error] = result.errors
    assert (error.line, error.column, error.tool) == (4, 16, "pyflakes")
    assert "undefined name 'y'" in error.message
    warnings = [d for d in result.diagnostics if d.severity == "warning"]
    assert any("'os' imported but unused" in w.message for w in warnings)
    feedback = result.feedback(code)
    assert "1 error(s) and 1 warning(s)" in feedback
    assert "    return x + y" in feedback  # the offending line is quoted


def test_warnings_alone_do_not_fail_code():
    result = analyze("import os\nprint(1)\n", "python")
    assert result.ok and result.diagnostics


def test_python_errors_tree_sitter_accepts_are_caught_by_the_compiler():
    code = "def f():\n    return 1\n  x = 2\n"  # bad dedent
    result = analyze(code, "python")
    assert not result.ok


def test_unknown_language_is_named():
    with pytest.raises(ValueError, match="'klingon'"):
        canonical_language("klingon")


def test_clean_code_feedback_says_so():
    assert "no problems" in analyze("x = 1\nprint(x)\n", "python").feedback("x = 1\nprint(x)\n")
