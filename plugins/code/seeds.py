"""Seed snippets for code synthesis: top-level functions and classes cut out of a code
corpus with tree-sitter (docs/recipe.md section 6: "random code snippet -> problem")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from herd.core.errors import InputError
from herd.plugins.code.static_analysis import _parser, canonical_language

# tree-sitter node types that make a self-contained seed, per language.
DEFINITIONS = {
    "python": ("function_definition", "class_definition", "decorated_definition"),
    "javascript": ("function_declaration", "class_declaration"),
    "lua": ("function_declaration",),
    "ruby": ("method", "class"),
    "perl": ("subroutine_declaration_statement",),
}
SUFFIXES = {".py": "python", ".js": "javascript", ".lua": "lua", ".rb": "ruby", ".pl": "perl"}
MIN_LINES, MAX_LINES = 2, 60


@dataclass(frozen=True)
class Seed:
    code: str
    name: str
    where: str  # "file:line"
    language: str


def extract_seeds(code: str, language: str, where: str = "<text>") -> list[Seed]:
    """Every top-level definition of ``code`` between MIN_LINES and MAX_LINES long."""
    language = canonical_language(language)
    kinds = DEFINITIONS.get(language)
    if kinds is None:
        raise ValueError(f"no seed extraction for language '{language}' (known: {', '.join(DEFINITIONS)})")
    tree = _parser(language).parse(code.encode("utf-8"))
    seeds = []
    for node in tree.root_node.children:
        if node.type not in kinds or node.has_error:
            continue
        text = node.text.decode("utf-8", errors="replace")
        if not MIN_LINES <= text.count("\n") + 1 <= MAX_LINES:
            continue
        name_node = node.child_by_field_name("name") or next(
            (c.child_by_field_name("name") for c in node.children if c.child_by_field_name("name")), None)
        name = name_node.text.decode("utf-8", errors="replace") if name_node is not None else node.type
        seeds.append(Seed(text, name, f"{where}:{node.start_point[0] + 1}", language))
    return seeds


def seeds_from_paths(paths: list[Path]) -> list[Seed]:
    """Seeds from source files, directories of them (by suffix) or JSONL documents with a
    ``text`` field and a ``language`` (default python)."""
    seeds: list[Seed] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"seed path {path} does not exist (synthesizers.code_execution_feedback.seed_paths)")
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".jsonl":
                seeds.extend(_from_jsonl(file))
            elif file.suffix in SUFFIXES:
                text = file.read_text(encoding="utf-8", errors="replace")
                seeds.extend(extract_seeds(text, SUFFIXES[file.suffix], str(file)))
    return seeds


def _from_jsonl(path: Path) -> list[Seed]:
    seeds: list[Seed] = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
        text = record.get("text") or ((record.get("prompt") or "") + (record.get("canonical_solution") or ""))
        if text:
            seeds.extend(extract_seeds(text, record.get("language", "python"), f"{path}:{number}"))
    return seeds
