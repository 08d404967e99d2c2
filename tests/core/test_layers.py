"""The three layers hold: ``core`` imports neither ``lib`` (save the sandbox opener and its
config in ``Services``) nor any plugin, ``lib`` imports no plugin, and no plugin imports another."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _offenders(folder: str, forbidden) -> list[str]:
    bad = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for module in sorted(_imports(path)):
            if forbidden(path, module):
                bad.append(f"{path.relative_to(REPO)} imports {module}")
    return bad


def test_no_plugin_imports_another_plugin():
    def other_plugin(path: Path, module: str) -> bool:
        own = path.relative_to(REPO / "plugins").parts[0]
        return module.startswith("herd.plugins.") and module.split(".")[2] != own

    assert _offenders("plugins", other_plugin) == []


def test_the_library_imports_no_plugin():
    assert _offenders("lib", lambda path, module: module.startswith("herd.plugins")) == []


def test_the_core_imports_no_plugin_and_only_the_sandbox_opener_of_the_library():
    allowed = {("services.py", "herd.lib.sandbox.choose"), ("services.py", "herd.lib.sandbox.config")}

    def forbidden(path: Path, module: str) -> bool:
        if module.startswith("herd.plugins"):
            return True
        return module.startswith("herd.lib") and (path.name, module) not in allowed

    assert _offenders("core", forbidden) == []
