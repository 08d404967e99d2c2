"""Seed snippets: top-level functions and classes cut out with tree-sitter."""

from __future__ import annotations

import pytest

from herd.core.errors import InputError
from herd.plugins.code.seeds import extract_seeds, seeds_from_paths

PYTHON = '''import os

@cache
def area(w, h):
    return w * h

class Point:
    def norm(self):
        return 0

def one(): pass

def broken(:
    return 1
'''


def test_python_definitions_with_names_and_lines():
    seeds = extract_seeds(PYTHON, "python", "geo.py")
    assert [(s.name, s.where) for s in seeds] == [("area", "geo.py:3"), ("Point", "geo.py:7")]
    assert seeds[0].code.startswith("@cache\ndef area")  # decorator kept; one-liners and broken code skipped


def test_other_languages_and_directories(tmp_path):
    (tmp_path / "m.lua").write_text("local function add(a, b)\n  return a + b\nend\n")
    (tmp_path / "notes.txt").write_text("def ignored():\n    pass\n")
    (tmp_path / "docs.jsonl").write_text('{"text": "def f(x):\\n    return x\\n"}\n')
    seeds = seeds_from_paths([tmp_path])
    assert sorted((s.language, s.name) for s in seeds) == [("lua", "add"), ("python", "f")]


def test_missing_seed_path_is_named(tmp_path):
    with pytest.raises(InputError, match="nowhere"):
        seeds_from_paths([tmp_path / "nowhere"])
