"""Logging to the console (rich on a terminal) and to ``runs/<name>/log.txt``.

The console shows INFO and up (``--quiet``: warnings, ``--verbose``: DEBUG); ``log.txt``
always gets DEBUG detail (every training step, the resolved config, subprocess output).
Where stderr is not a terminal (a file, CI) lines are written plain, as they are, and
not padded to a console width."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

LOGGER_NAME = "herd"
PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(verbosity: int = 0, quiet: bool = False) -> logging.Logger:
    """Console logging: ``--quiet`` shows warnings only, ``--verbose`` debug messages."""
    log = logging.getLogger(LOGGER_NAME)
    log.handlers.clear()
    log.setLevel(logging.DEBUG)
    log.propagate = False
    level = logging.WARNING if quiet else (logging.DEBUG if verbosity > 0 else logging.INFO)
    handler = console_handler(sys.stderr.isatty())
    handler.setLevel(level)
    log.addHandler(handler)
    return log


def console_handler(terminal: bool) -> logging.Handler:
    """rich's handler on a terminal; a plain stream handler otherwise (rich pads every
    line to its console width when it cannot ask a terminal for one)."""
    if terminal:
        try:
            from rich.console import Console
            from rich.logging import RichHandler

            handler: logging.Handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False,
                                                   rich_tracebacks=False)
            handler.setFormatter(logging.Formatter("%(message)s", datefmt="%H:%M:%S"))
            return handler
        except ImportError:
            pass
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT, "%H:%M:%S"))
    return handler


def add_file_log(log: logging.Logger, path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    log.addHandler(handler)
    return handler
