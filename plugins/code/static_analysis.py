"""Static checks of generated code, turned into feedback text a model can act on.

Every language tree-sitter-language-pack knows is parsed and its syntax errors reported
with 1-based ``line:column`` positions; Python is also compiled (for the interpreter's own
message) and linted with pyflakes (undefined names are errors, unused imports and
variables warnings). docs/recipe.md section 6, "static analysis (parse, linters)".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache

# Names models and files use for a language -> tree-sitter-language-pack's name.
ALIASES = {"py": "python", "python3": "python", "js": "javascript", "node": "javascript", "rb": "ruby",
           "pl": "perl", "sh": "bash", "shell": "bash", "lua5.4": "lua", "c++": "cpp", "ts": "typescript"}
_MAX_DIAGNOSTICS = 10


@dataclass(frozen=True)
class Diagnostic:
    line: int  # 1-based
    column: int  # 1-based
    message: str
    severity: str = "error"  # "error" or "warning"
    tool: str = "tree-sitter"


@dataclass
class Analysis:
    language: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def ok(self) -> bool:
        """No errors (warnings such as unused imports do not fail the code)."""
        return not self.errors

    def feedback(self, code: str) -> str:
        """The problems as text for the model, each with the offending source line."""
        if not self.diagnostics:
            return f"Static analysis of the {self.language} code found no problems."
        lines = code.splitlines()
        shown = sorted(self.diagnostics, key=lambda d: (d.severity != "error", d.line, d.column))
        out = [f"Static analysis of the {self.language} code found {len(self.errors)} error(s) "
               f"and {len(self.diagnostics) - len(self.errors)} warning(s):"]
        for diag in shown[:_MAX_DIAGNOSTICS]:
            out.append(f"- line {diag.line}, column {diag.column}: {diag.severity}: {diag.message} ({diag.tool})")
            if 0 < diag.line <= len(lines):
                out.append(f"    {lines[diag.line - 1].rstrip()}")
        if len(shown) > _MAX_DIAGNOSTICS:
            out.append(f"- ... and {len(shown) - _MAX_DIAGNOSTICS} more")
        return "\n".join(out)


def canonical_language(language: str) -> str:
    name = ALIASES.get(language.lower(), language.lower())
    if not is_supported(name):
        raise ValueError(f"language '{language}' is not supported by tree-sitter-language-pack")
    return name


@lru_cache(maxsize=None)
def is_supported(language: str) -> bool:
    try:
        _parser(language)
    except (LookupError, ValueError):
        return False
    return True


@lru_cache(maxsize=None)
def _parser(language: str):
    from tree_sitter_language_pack import get_parser

    return get_parser(language)


def analyze(code: str, language: str) -> Analysis:
    """Syntax errors of ``code`` in any supported language, plus pyflakes for Python."""
    name = canonical_language(language)
    result = Analysis(name, syntax_errors(code, name))
    if name == "python":
        compiled = _python_compile_error(code)
        if compiled and not any(d.line == compiled.line for d in result.diagnostics):
            result.diagnostics.append(compiled)
        if not result.errors:
            result.diagnostics.extend(_pyflakes(code))
    return result


def syntax_errors(code: str, language: str) -> list[Diagnostic]:
    source = code.encode("utf-8")
    tree = _parser(language).parse(source)
    if not tree.root_node.has_error:
        return []
    found: list[Diagnostic] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            found.append(_at(node, f"missing {node.type!r}"))
            continue
        if node.type == "ERROR":
            snippet = node.text.decode("utf-8", errors="replace").strip().splitlines()
            text = snippet[0][:40] if snippet else ""
            found.append(_at(node, f"syntax error near {text!r}" if text else "syntax error"))
            continue  # one report per broken region
        if node.has_error:
            stack.extend(reversed(node.children))
    return sorted(found, key=lambda d: (d.line, d.column))


def _at(node, message: str) -> Diagnostic:
    row, column = node.start_point
    return Diagnostic(row + 1, column + 1, message)


def _python_compile_error(code: str) -> Diagnostic | None:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return Diagnostic(exc.lineno or 1, exc.offset or 1, exc.msg, tool="python")
    except ValueError as exc:  # e.g. source with NUL bytes
        return Diagnostic(1, 1, str(exc), tool="python")
    return None


_PYFLAKES_ERRORS = ("UndefinedName", "UndefinedLocal", "UndefinedExport", "ReturnOutsideFunction",
                    "YieldOutsideFunction", "ContinueOutsideLoop", "BreakOutsideLoop",
                    "DuplicateArgument", "TooManyExpressionsInStarredAssignment")


def _pyflakes(code: str) -> list[Diagnostic]:
    from pyflakes import checker

    tree = ast.parse(code)
    found = []
    for message in checker.Checker(tree, filename="<generated>").messages:
        kind = type(message).__name__
        found.append(Diagnostic(
            message.lineno, (message.col or 0) + 1, message.message % message.message_args,
            severity="error" if kind in _PYFLAKES_ERRORS else "warning", tool="pyflakes",
        ))
    return found
