"""docs/architecture.md stays true: its plugin table is what the plugins register."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import REPO, run_cli  # noqa: E402

from herd.cli import embedded_plugin_table, plugin_table, with_plugin_table  # noqa: E402
from herd.core.plugins import load_plugins, read_builtin_registry  # noqa: E402

DOC = REPO / "docs" / "architecture.md"


def test_plugin_table_matches_the_registrations():
    loaded = load_plugins(list(read_builtin_registry()), entry_points=False, tolerant=True)
    assert not loaded.failed, f"built-in plugins failed to load, the table would miss them: {loaded.failed}"
    assert embedded_plugin_table(DOC.read_text(), DOC) == plugin_table(loaded), (
        "docs/architecture.md is out of date: run `python cli.py plugins --write-doc docs/architecture.md`"
    )


def test_write_doc_replaces_only_the_table(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- plugin-table:start -->\n| old |\n<!-- plugin-table:end -->\noutro\n")
    result = run_cli("plugins", "--write-doc", str(doc))
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert text.startswith("intro\n<!-- plugin-table:start -->\n| plugin | active | registers |")
    assert text.endswith("|\n<!-- plugin-table:end -->\noutro\n") and "| old |" not in text
    assert embedded_plugin_table(text, doc) == run_cli("plugins", "--markdown").stdout.strip()
    assert with_plugin_table(text, "| t |", doc) == "intro\n<!-- plugin-table:start -->\n| t |\n<!-- plugin-table:end -->\noutro\n"
