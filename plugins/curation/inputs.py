"""Finding the input files and the source that reads each one."""

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


def resolve_path(text: str) -> Path:
    """A relative path that does not exist here is looked up in the herd package, so
    that ``data/corpus`` finds the built-in corpus from any directory."""
    path = Path(text).expanduser()
    if path.exists() or path.is_absolute():
        return path
    packaged = PACKAGE_ROOT / path
    return packaged if packaged.exists() else path


def find_inputs(
    paths: list[str], registry: Registry, component_config: Callable[[str, str], Any]
) -> list[InputFile]:
    """Expand ``paths`` (files, folders and glob patterns) into input files, each with its
    source."""
    if not paths:
        raise InputError("no input given: set curate.inputs or pass --input PATH")
    suffixes = _suffix_table(registry)
    found: list[InputFile] = []
    for text in _expand_globs(paths):
        path = resolve_path(text)
        if not path.exists():
            raise InputError(f"input {text} does not exist")
        if path.is_dir() and not is_saved_dataset(path):
            files = [p for p in sorted(path.rglob("*")) if p.is_file() and not _hidden(p, path)]
            picked = [(p, _source_for(p, suffixes)) for p in files]
            datasets = sorted({p.parent for p in files if is_saved_dataset(p.parent) and p.parent != path})
            picked = [(p, s) for p, s in picked if s and not any(d in p.parents for d in datasets)]
            picked += [(d, HF_DISK_SOURCE) for d in datasets]
            if not picked:
                known = ", ".join(sorted({s for s, _ in suffixes}))
                raise InputError(f"input folder {path} holds no file that a source reads (known endings: {known})")
            for file, source in sorted(picked, key=lambda item: str(item[0])):
                found.append(_input(file, source, registry, component_config))
            continue
        source = HF_DISK_SOURCE if path.is_dir() else _source_for(path, suffixes)
        if source is None:
            known = ", ".join(sorted({s for s, _ in suffixes}))
            raise InputError(f"input {path}: no source reads this file type (known endings: {known})")
        found.append(_input(path, source, registry, component_config))
    return found


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


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


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
