"""A per-document time budget for extraction, enforced from outside the extractor.

HTML parsers are C/C++ code: a pathological page can keep one busy for hours, and neither
a Python signal handler nor a flag the extractor polls can stop it there. So the worker
runs each extraction in a child process it forked (which inherits the built step), waits
at most ``budget_s`` for the answer, and on overrun kills the child and drops the page
with ``<step>.timeout``; the next page gets a fresh child. A child that dies on a page
(a crash in the parser, the kernel's OOM killer) drops that page with ``<step>.crashed``.

Whatever the step changes on its own object while applying (counters) stays in the
child: only the returned ``Document`` or ``Drop`` comes back. Timeouts depend on the
machine's speed, so the budget should sit far above any real page's extraction time.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import weakref
from multiprocessing.connection import Connection, Pipe
from typing import Any

from herd.core.records import Document, Drop

_PR_SET_PDEATHSIG = 1


class TimeBoxedStep:
    """``apply(doc)`` of ``step`` run in a child process with ``budget_s`` seconds per document."""

    def __init__(self, name: str, step: Any, budget_s: float):
        self.name = name
        self.step = step
        self.budget_s = budget_s
        self._child: _Child | None = None

    def apply(self, doc: Document) -> Document | Drop:
        if self._child is None or not self._child.alive():
            self._child = _Child(self.step)
        child = self._child
        try:
            child.send(doc)
        except OSError:  # it died between two pages: start another and send again
            child.stop()
            self._child = child = _Child(self.step)
            child.send(doc)
        if not child.conn.poll(self.budget_s):
            child.stop()
            self._child = None
            return Drop(f"{self.name}.timeout",
                        f"extraction took longer than curate.extract_time_budget_s = {self.budget_s:g} s; stopped")
        try:
            kind, value = child.conn.recv()
        except (EOFError, OSError):
            how = child.stop()
            self._child = None
            return Drop(f"{self.name}.crashed", f"the extraction process died on this page ({how})")
        if kind == "error":
            raise value
        return value

    def close(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None


class _Child:
    """A forked process answering ``(kind, value)`` for every document it receives."""

    def __init__(self, step: Any):
        parent_end, child_end = Pipe(duplex=True)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            parent_end.close()
            _serve(step, child_end)
        child_end.close()
        self.pid = pid
        self.conn = parent_end
        self._finalizer = weakref.finalize(self, _kill, pid, parent_end)

    def send(self, doc: Document) -> None:
        self.conn.send(doc)

    def alive(self) -> bool:
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0

    def stop(self) -> str:
        """Kill and reap the child; how it ended, in words."""
        self._finalizer.detach()
        return _kill(self.pid, self.conn)


def _kill(pid: int, conn: Connection) -> str:
    conn.close()
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "already reaped"
    if os.WIFSIGNALED(status):
        return f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _serve(step: Any, conn: Connection) -> None:
    code = 0
    try:
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        while True:
            try:
                doc = conn.recv()
            except (EOFError, OSError):
                break  # the worker closed its end or died
            try:
                answer = ("ok", step.apply(doc))
            except Exception as exc:  # the step's own error: the runner accounts for it
                answer = ("error", _picklable(exc))
            conn.send(answer)
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # never run the parent's atexit handlers or finalizers here


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when the worker that forked it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the closed pipe still ends the loop
        pass
