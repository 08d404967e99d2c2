"""The static style rubric of generated code (docs/recipe.md section 6, rejection sampling with
code-specific system prompts: readability, documentation, thoroughness).

Every check is a yes/no question a reviewer would ask; the score is the share answered
yes, and code that does not parse scores 0. Only Python gets the full rubric; other
languages get the parse and line-length checks.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from herd.plugins.code.static_analysis import analyze

MAX_NESTING = 4
PLACEHOLDER_MARKERS = ("TODO", "FIXME", "XXX")


@dataclass
class StyleReport:
    score: float  # 0..1, the share of rubric checks passed
    checks: dict[str, bool] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)

    def feedback(self) -> str:
        return "Style: " + ("; ".join(self.issues) if self.issues else "no problems found")


def style_of(code: str, language: str = "python", max_line_length: int = 100) -> StyleReport:
    analysis = analyze(code, language)
    if not analysis.ok:
        return StyleReport(0.0, {"parses": False}, [analysis.feedback(code)])
    checks: dict[str, bool] = {"parses": True}
    issues: list[str] = []
    long_lines = [i for i, line in enumerate(code.splitlines(), 1) if len(line) > max_line_length]
    _check(checks, issues, "readable_line_length", not long_lines,
           f"lines {', '.join(map(str, long_lines[:5]))} are longer than {max_line_length} characters")
    if analysis.language == "python":
        _python_rubric(code, analysis, checks, issues)
    passed = sum(checks.values())
    return StyleReport(passed / len(checks), checks, issues)


def _check(checks: dict[str, bool], issues: list[str], name: str, ok: bool, issue: str) -> None:
    checks[name] = ok
    if not ok:
        issues.append(issue)


def _python_rubric(code: str, analysis, checks: dict[str, bool], issues: list[str]) -> None:
    tree = ast.parse(code)
    warnings = [d for d in analysis.diagnostics if d.severity == "warning"]
    _check(checks, issues, "lint_clean", not warnings,
           "pyflakes: " + "; ".join(f"line {d.line}: {d.message}" for d in warnings[:3]))
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    undocumented = [f.name for f in functions if not ast.get_docstring(f) and not _commented(code, f)]
    _check(checks, issues, "documented", not undocumented,
           f"{', '.join(undocumented[:3])} {'has' if len(undocumented) == 1 else 'have'} no docstring or comment")
    depth = _nesting(tree)
    _check(checks, issues, "shallow_nesting", depth <= MAX_NESTING,
           f"blocks are nested {depth} deep (at most {MAX_NESTING} reads well)")
    placeholders = [f.name for f in functions if _is_placeholder(f)]
    markers = [m for m in PLACEHOLDER_MARKERS if m in code]
    _check(checks, issues, "complete", not placeholders and not markers,
           "unfinished code: " + ", ".join([f"{n} has an empty body" for n in placeholders] + markers))
    bare = any(isinstance(n, ast.ExceptHandler) and n.type is None for n in ast.walk(tree))
    _check(checks, issues, "specific_exceptions", not bare, "a bare `except:` hides errors; name the exception")


def _commented(code: str, node: ast.AST) -> bool:
    """A comment on the line above the definition or inside its first lines."""
    lines = code.splitlines()
    start = getattr(node, "lineno", 1) - 1
    window = lines[max(0, start - 1): start + 3]
    return any(line.strip().startswith("#") for line in window)


def _is_placeholder(node: ast.AST) -> bool:
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                                         and isinstance(n.value.value, str))]
    if not body:
        return True
    only = body[0] if len(body) == 1 else None
    if isinstance(only, ast.Pass) or (isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant)
                                      and only.value.value is Ellipsis):
        return True
    if isinstance(only, ast.Raise) and only.exc is not None:
        target = only.exc.func if isinstance(only.exc, ast.Call) else only.exc
        return isinstance(target, ast.Name) and target.id == "NotImplementedError"
    return False


_BLOCKS = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)


def _nesting(node: ast.AST, depth: int = 0) -> int:
    deepest = depth
    for child in ast.iter_child_nodes(node):
        inner = depth + 1 if isinstance(child, _BLOCKS) else depth
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = 0  # a nested definition starts its own count
        deepest = max(deepest, _nesting(child, inner))
    return deepest
