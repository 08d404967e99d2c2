"""Errors the CLI turns into a one-line cause and an exit code.

Every message names the thing at fault (plugin, config key, file, record, stage) and,
where there is one, how to fix it.
"""

from __future__ import annotations


class HerdError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(HerdError):
    exit_code = 2


class PluginError(HerdError):
    exit_code = 3


class StageError(HerdError):
    """A stage's plugin raised; the run directory stays consistent and ``--resume`` can
    continue once the cause is fixed."""

    exit_code = 4


class InputError(HerdError):
    """Bad input that cannot be dropped record by record (an unreadable file...)."""

    exit_code = 5


# -- a full disk ----------------------------------------------------------------------
# One message for every write path: an OSError (ENOSPC, or EDQUOT for a quota), or what a
# library makes of it (torch's zip writer reports "unexpected pos", numpy's ``tofile``
# "N requested and M written"; both drop the errno).

_FULL_ERRNOS = frozenset({28, 122})  # ENOSPC, EDQUOT (Linux numbering; errno module agrees)
_NEARLY_FULL_BYTES = 16 * 1024 * 1024
_LIBRARY_WRITE_FAILED = ("unexpected pos", "PytorchStreamWriter failed writing", " requested and ")


class DiskFullError(StageError):
    """Writing ``path`` failed because the disk (or the user's quota) holding it is full.
    Nothing partial is kept under the final name; after freeing space, ``--resume``
    continues."""

    def __init__(self, path: str, cause: BaseException | None = None):
        self.path = str(path)
        why = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        super().__init__(
            f"the disk is full: cannot write {self.path}{why}. Free space on the disk holding it "
            f"(df -h {_folder_of(self.path)}) and re-run with --resume"
        )

    def __reduce__(self):  # crossing a process pool keeps the message as it is
        return (_rebuilt_disk_full, (self.path, self.args[0]))


def _rebuilt_disk_full(path: str, message: str) -> DiskFullError:
    error = DiskFullError(path)
    error.args = (message,)
    return error


def disk_full_error(exc: BaseException, path: str | None = None) -> DiskFullError | None:
    """``exc`` as a ``DiskFullError`` when a full disk caused it (anywhere in its chain of
    causes), naming the file it names, else ``path``; None when the disk is not the cause.
    A bare torch or numpy write failure counts when the disk holding ``path`` is (nearly) full."""
    for link in _chain(exc):
        if isinstance(link, DiskFullError):
            return link
        if isinstance(link, OSError) and link.errno in _FULL_ERRNOS:
            return DiskFullError(link.filename or path or "(unknown file)", link)
    library_failure = isinstance(exc, (RuntimeError, OSError)) and getattr(exc, "errno", None) is None
    if path is not None and library_failure and any(m in str(exc) for m in _LIBRARY_WRITE_FAILED):
        if _free_bytes(path) < _NEARLY_FULL_BYTES:
            return DiskFullError(path, exc)
    return None


def _chain(exc: BaseException):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _folder_of(path: str) -> str:
    import os

    folder = path
    while folder and not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder or "."


def _free_bytes(path: str) -> int:
    import os

    try:
        stats = os.statvfs(_folder_of(str(path)))
    except OSError:
        return _NEARLY_FULL_BYTES  # unknown: do not claim the disk is full
    return stats.f_bavail * stats.f_frsize
