"""Code-repository questions over the stdlib ``email`` package, checked against an import
graph computed here independently (``importlib.util.resolve_name`` on every import) and
against the real modules (each name a replacement must provide exists in the original)."""

import ast
import importlib
import importlib.util
import json
from pathlib import Path

import pytest

from herd.core.errors import ConfigError
from herd.plugins.long_context.repo_qa import full_questions, hubs_of
from tests.conftest import run_cli

EMAIL = Path(importlib.util.find_spec("email").submodule_search_locations[0])


def _module_of(path: Path) -> tuple[str, str]:
    """(module name, the package its relative imports resolve against)."""
    parts = ["email", *path.relative_to(EMAIL).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def independent_importers() -> dict[str, dict[str, set[str]]]:
    """module -> {importer: names taken with ``from module import ...``}."""
    modules = {_module_of(p)[0] for p in EMAIL.rglob("*.py")}
    found: dict[str, dict[str, set[str]]] = {}
    for path in EMAIL.rglob("*.py"):
        importer, package = _module_of(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        found.setdefault(alias.name, {}).setdefault(importer, set())
            elif isinstance(node, ast.ImportFrom):
                source = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                for alias in node.names:
                    if f"{source}.{alias.name}" in modules:
                        found.setdefault(f"{source}.{alias.name}", {}).setdefault(importer, set())
                    elif source in modules and alias.name != "*":
                        found.setdefault(source, {}).setdefault(importer, set()).add(alias.name)
    return found


def test_dependents_and_provided_names_match_the_real_package():
    truth = independent_importers()
    hubs = hubs_of("email", 5)
    assert hubs == sorted(m for m, importers in truth.items() if len(set(importers) - {m}) >= 5)
    for q in full_questions("email", len(hubs), seed=0):
        importers = truth[q.removed_module]
        assert q.dependents == sorted(set(importers) - {q.removed_module})
        assert q.complete
        from_imported = set().union(*importers.values())
        assert from_imported <= set(q.provides)
        original = importlib.import_module(q.removed_module)
        assert all(hasattr(original, name) for name in q.provides), q.removed_module


def test_context_shows_every_answer_and_not_the_removed_file():
    for q in full_questions("email", 5, seed=3):
        blocks = {b.split("\n", 1)[0][2:]: b for b in q.context.split("\n\n")}
        assert f"# {q.removed_path}" not in q.context
        short = q.removed_module.rsplit(".", 1)[-1]
        for dependent in q.dependents:
            path = dependent.replace(".", "/") + (".py" if (EMAIL.parent / (dependent.replace(".", "/") + ".py")).is_file()
                                                  else "/__init__.py")
            assert short in blocks[path], (q.removed_module, dependent)
        for name in q.provides:
            assert name in q.context
        assert ", ".join(q.dependents) in q.answer


def test_questions_are_deterministic_by_seed():
    a, b, c = (full_questions("email", 6, seed=s) for s in (1, 1, 2))
    assert a == b
    assert [q.removed_module for q in a] != [q.removed_module for q in c]
    # every hub is asked once before any is asked again
    assert len({q.removed_module for q in a[:len(hubs_of("email", 5))]}) == len(hubs_of("email", 5))


def test_bad_packages_are_named():
    with pytest.raises(ConfigError, match="'no_such_package_zz' is not installed"):
        full_questions("no_such_package_zz", 1, 0)
    with pytest.raises(ConfigError, match="'json': no module is imported by at least 5"):
        full_questions("json", 1, 0)
    with pytest.raises(ConfigError, match="single module"):
        full_questions("string", 1, 0)


def test_repo_qa_command_writes_rows(tmp_path):
    out = tmp_path / "repo.jsonl"
    result = run_cli("long-context", "repo-qa", "--package", "email", "--samples", "3", "--seed", "4",
                     "--output", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    truth = independent_importers()
    assert len(rows) == 3
    for row in rows:
        assert row["dependents"] == sorted(set(truth[row["removed_module"]]) - {row["removed_module"]})
        assert {"removed_module", "dependents", "provides", "question", "answer", "context"} <= set(row)
    bad = run_cli("long-context", "repo-qa", "--package", "no_such_package_zz", "--samples", "1",
                  "--output", str(tmp_path / "x.jsonl"))
    assert bad.returncode == 2 and "no_such_package_zz" in bad.stderr
