"""Repository-level long documents from the stdlib ``email`` package: import order (a module
after the package modules it imports), whole files under ``# file:`` headers, the size cap,
and the ``long_documents`` stage's records."""

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

from herd.core.errors import ConfigError
from herd.plugins.long_context.import_graph import read_graph
from herd.plugins.long_context.repo_documents import import_order, repo_documents
from tests.conftest import run_cli

EMAIL = Path(importlib.util.find_spec("email").submodule_search_locations[0])


def test_import_order_puts_each_module_after_what_it_imports():
    graph = read_graph("email")
    order = import_order(graph)
    assert sorted(order) == sorted(graph.modules)
    position = {name: i for i, name in enumerate(order)}
    # email's import graph has cycles (email.message <-> email.utils via relative imports), so
    # count the edges that point forward: all but the few broken to end a cycle.
    edges = [(m, d) for m, mod in graph.modules.items() for d in mod.imports if d in graph.modules and d != m]
    backward = [(m, d) for m, d in edges if position[d] > position[m]]
    assert len(edges) > 50
    assert len(backward) <= len(edges) // 10
    # email.errors imports nothing of the package and is imported by many: it comes early.
    assert position["email.errors"] < position["email.message"]


def test_documents_hold_whole_files_in_order_within_the_cap():
    docs = repo_documents("email", 30_000)
    assert len(docs) > 3
    modules = [m for d in docs for m in d.modules]
    assert modules == [m for m in import_order(read_graph("email")) if m in set(modules)]
    for doc in docs:
        headers = [line for line in doc.text.splitlines() if line.startswith("# file: email/")]
        assert len(headers) == len(doc.modules)
        assert len(doc.text) <= 30_000 + len(doc.modules)  # the joining newlines
    # A file's text is the file's own source, untouched.
    first = docs[0]
    path = first.text.splitlines()[0].removeprefix("# file: ")
    assert (EMAIL.parent / path).read_text(encoding="utf-8").rstrip() in first.text


def test_documents_are_deterministic_and_a_missing_package_is_named():
    assert repo_documents("json", 8_000) == repo_documents("json", 8_000)
    with pytest.raises(ConfigError, match="no_such_package_xyz"):
        repo_documents("no_such_package_xyz", 8_000)


@pytest.mark.slow
def test_long_documents_stage_writes_code_records(tmp_path):
    config = tmp_path / "herd.toml"
    config.write_text('[long_documents]\npackages = ["json", "email"]\nmax_chars = 10000\n')
    written = []
    for name in ("a", "b"):
        done = run_cli("run", "--plugins", "long_context", "--profile", "quick", "--config", str(config),
                       "--stages", "long_documents", "--run-dir", str(tmp_path / name))
        assert done.returncode == 0, done.stderr[-2000:]
        written.append(tmp_path / name / "long_documents" / "documents.jsonl.gz")
    records = [json.loads(line) for line in gzip.open(written[0], "rt")]
    assert {r["metadata"]["package"] for r in records} == {"json", "email"}
    assert all(r["domain"] == "code" and r["text"].startswith("# file: ") for r in records)
    assert [r["text"] for r in records] == [d.text for p in ("json", "email") for d in repo_documents(p, 10_000)]
    assert written[0].read_bytes() == written[1].read_bytes()  # a function of the sources only
