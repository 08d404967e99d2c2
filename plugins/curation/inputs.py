"""Finding the input files and the source that reads each one.

A file inside an input folder that no source reads is never skipped silently: it is
listed as unread (in ``funnel.json``, and in the log), or is an error when
``curate.unread_files = "error"``.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from herd.core.components import Registry
from herd.core.errors import InputError
from herd.plugins.curation.sources.hf_disk import is_saved_dataset

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the herd package = the repository root
HF_DISK_SOURCE = "hf_disk"


@dataclass(frozen=True)
class InputFile:
    path: str
    source: str  # the registered source's name
    factory: Callable[..., Any]
    config: Any = None

    def open_source(self) -> Any:
        return self.factory(self.config)


@dataclass(frozen=True)
class UnreadFile:
    """A file (or hidden folder) inside an input folder that no source reads."""

    path: str
    reason: str


@dataclass(frozen=True)
class InputSet:
    files: list[InputFile]
    unread: list[UnreadFile]


def resolve_path(text: str) -> Path:
    """A relative path that does not exist here is looked up in the herd package, so
    that ``data/corpus`` finds the built-in corpus from any directory."""
    path = Path(text).expanduser()
    if path.exists() or path.is_absolute():
        return path
    packaged = PACKAGE_ROOT / path
    return packaged if packaged.exists() else path


def find_inputs(
    paths: list[str], registry: Registry, component_config: Callable[[str, str], Any], unread_files: str = "report"
) -> InputSet:
    """Expand ``paths`` (files, folders and glob patterns) into input files, each with its
    source, and the files of input folders that no source reads (``unread_files =
    "error"`` makes any of those an ``InputError``)."""
    if not paths:
        raise InputError("no input given: set curate.inputs or pass --input PATH")
    if unread_files not in ("report", "error"):
        raise InputError(f"curate.unread_files must be 'report' or 'error', got {unread_files!r}")
    suffixes = _suffix_table(registry)
    known = ", ".join(sorted({s for s, _ in suffixes}))
    found: list[InputFile] = []
    unread: list[UnreadFile] = []
    for text in _expand_globs(paths):
        path = resolve_path(text)
        if not path.exists():
            raise InputError(f"input {text} does not exist")
        if path.is_dir() and not is_saved_dataset(path):
            picked, skipped = _scan_folder(path, suffixes)
            unread += skipped
            if not picked:
                raise InputError(f"input folder {path} holds no file that a source reads (known endings: {known})")
            for file, source in sorted(picked, key=lambda item: str(item[0])):
                found.append(_input(file, source, registry, component_config))
            continue
        source = HF_DISK_SOURCE if path.is_dir() else _source_for(path, suffixes)
        if source is None:
            known = ", ".join(sorted({s for s, _ in suffixes}))
            raise InputError(f"input {path}: no source reads this file type (known endings: {known})")
        found.append(_input(path, source, registry, component_config))
    if unread and unread_files == "error":
        listed = "; ".join(f"{u.path} ({u.reason})" for u in unread[:5])
        more = f" and {len(unread) - 5} more" if len(unread) > 5 else ""
        raise InputError(
            f"{len(unread)} file(s) in the input folders are read by no source: {listed}{more}. "
            f"Remove them, convert them (known endings: {known}), or set curate.unread_files = \"report\""
        )
    return InputSet(found, unread)


def _scan_folder(root: Path, suffixes: list[tuple[str, str]]) -> tuple[list[tuple[Path, str]], list[UnreadFile]]:
    """The (file, source) pairs a folder's sources read, and what no source reads: every
    such file, and every hidden entry (a ``.cache`` folder is listed once)."""
    files: list[Path] = []
    hidden: dict[Path, int] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        top = _hidden_part(path, root)
        if top is not None:
            hidden[top] = hidden.get(top, 0) + 1
            continue
        files.append(path)
    datasets = sorted({p.parent for p in files if is_saved_dataset(p.parent) and p.parent != root})
    picked: list[tuple[Path, str]] = [(d, HF_DISK_SOURCE) for d in datasets]
    unread: list[UnreadFile] = []
    for path in files:
        if any(d in path.parents for d in datasets):
            continue
        source = _source_for(path, suffixes)
        if source is None:
            unread.append(UnreadFile(str(path), "no source reads this file type"))
        else:
            picked.append((path, source))
    for top, count in sorted(hidden.items()):
        what = "hidden file" if top.is_file() else f"hidden folder of {count} file(s)"
        unread.append(UnreadFile(str(top), what))
    return picked, sorted(unread, key=lambda u: u.path)


def _expand_globs(paths: list[str]) -> list[str]:
    """Patterns (``/data/cc/*.warc.gz``) become the sorted paths they match; a pattern that
    matches nothing is an error, so a typo never curates an empty corpus."""
    expanded = []
    for text in paths:
        if not any(c in text for c in "*?["):
            expanded.append(text)
            continue
        matches = sorted(glob.glob(str(Path(text).expanduser()), recursive=True))
        if not matches:
            raise InputError(f"input pattern {text} matches no file")
        expanded.extend(matches)
    return expanded


def _hidden_part(path: Path, root: Path) -> Path | None:
    """The outermost hidden entry (name starting with ``.``) on ``path`` below ``root``."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if part.startswith("."):
            return current
    return None


def _suffix_table(registry: Registry) -> list[tuple[str, str]]:
    table = [
        (suffix, name)
        for name, component in registry.components["sources"].items()
        for suffix in component.options.get("suffixes", ())
    ]
    return sorted(table, key=lambda item: -len(item[0]))  # longest suffix first


def _source_for(path: Path, suffixes: list[tuple[str, str]]) -> str | None:
    name = path.name.lower()
    return next((source for suffix, source in suffixes if name.endswith(suffix)), None)


def _input(path: Path, source: str, registry: Registry, component_config: Callable[[str, str], Any]) -> InputFile:
    component = registry.get("sources", source)
    return InputFile(str(path), source, component.factory, component_config("sources", source))
