"""docs/architecture.md stays true: its plugin table is what the plugins register."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import REPO, run_cli  # noqa: E402


def test_plugin_table_matches_the_registrations():
    doc = (REPO / "docs" / "architecture.md").read_text()
    start, end = "<!-- plugin-table:start -->\n", "<!-- plugin-table:end -->"
    embedded = doc[doc.index(start) + len(start):doc.index(end)].strip()
    generated = run_cli("plugins", "--markdown", env={"PYTHONPATH": ""}).stdout.strip()
    assert embedded == generated, (
        "docs/architecture.md is out of date: replace its plugin table with the output of "
        "`python cli.py plugins --markdown`"
    )
