"""Atomic writes: an artifact is written under a temporary name and renamed into place
only when complete, so a process killed at any moment (even SIGKILL) never leaves a
partial file that a later run would take as complete. A full disk while writing is a
``DiskFullError`` naming the file (``disk_guard`` gives any other writer the same).

A temporary file is created 0600 (``mkstemp``); ``temp_file`` gives it the mode a plain
``open`` would (0666 less the umask: 0644 under umask 022), so run files stay readable by
the group and others as the user's umask says, like any other tool's output."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator, IO

from herd.core.errors import disk_full_error


@contextlib.contextmanager
def disk_guard(path: Path | str) -> Iterator[None]:
    """Around any write of ``path`` (``torch.save``, a library's ``save``): a full disk
    becomes ``DiskFullError`` naming ``path``, whatever the writer made of ENOSPC."""
    try:
        yield
    except Exception as exc:
        full = disk_full_error(exc, str(path))
        if full is None or full is exc:
            raise
        raise full from exc


@contextlib.contextmanager
def atomic_open(path: Path | str, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit it is fsynced and renamed
    to ``path``; on an exception it is removed and ``path`` is untouched."""
    path = Path(path)
    fd, tmp = temp_file(path)
    binary = "b" in mode
    try:
        with disk_guard(path), os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def temp_file(path: Path | str) -> tuple[int, str]:
    """A new temporary file beside ``path`` (its folder created), open for writing, with
    the mode ``open(path, "w")`` would give: ``(fd, temporary path)``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, tmp


def umask_mode(*paths: Path | str) -> None:
    """Give files another library wrote the mode ``open`` would have (safetensors creates
    its files 0600); a folder's files (``save_pretrained``'s output) each get it."""
    mode = 0o666 & ~current_umask()
    for path in map(Path, paths):
        for file in (p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]:
            os.chmod(file, mode)


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask. Linux reports it in /proc; elsewhere it can only be read by
    setting it, which is done under a lock and undone at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_text(path: Path | str, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def write_json(path: Path | str, data: Any) -> None:
    with atomic_open(path, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
