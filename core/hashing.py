"""Content hashes for manifests and cache keys."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def tree_digest(root: Path, skip: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """``{relative path: {"sha256", "bytes"}}`` for every file under ``root``."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel in skip:
            continue
        out[rel] = {"sha256": file_sha256(path), "bytes": path.stat().st_size}
    return out


def digest_of(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def source_files(root: Path) -> list[Path]:
    """The Python files of a plugin package or library folder (``root`` itself when it is a
    file), sorted; compiled caches are not sources."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def source_digest(roots: Iterable[Path]) -> str:
    """One hash of the content of every source file under ``roots`` and of their paths
    relative to their root, so a moved or renamed file changes it as an edit does."""
    listing = []
    for position, root in enumerate(roots):
        root = Path(root)
        base = root.parent if root.is_file() else root
        for path in source_files(root):
            listing.append((position, root.name, path.relative_to(base).as_posix(), file_sha256(path)))
    return digest_of(listing)
