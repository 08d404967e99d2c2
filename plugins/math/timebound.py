"""A wall-clock bound on one comparison: sympy's simplification can run for minutes on
adversarial input, and a verifier must answer every row.

The bound is a ``SIGALRM`` timer, which only the main thread can receive; elsewhere the
comparison runs unbounded in time, and only the size bounds of
``expression`` (exponents, digits, node count) protect it. Big-integer arithmetic runs
in C, where no signal interrupts it: those size bounds, not this timer, stop it.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class TimeLimit(Exception):
    """The comparison ran past its bound."""


def _raise(signum, frame) -> None:
    raise TimeLimit


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``TimeLimit`` in the block once ``seconds`` have passed (main thread only)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
