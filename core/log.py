"""Logging to the console (rich) and to ``runs/<name>/log.txt``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

LOGGER_NAME = "herd"


def setup_logging(verbosity: int = 0, quiet: bool = False) -> logging.Logger:
    """Console logging: ``--quiet`` shows warnings only, ``--verbose`` debug messages."""
    log = logging.getLogger(LOGGER_NAME)
    log.handlers.clear()
    log.setLevel(logging.DEBUG)
    log.propagate = False
    level = logging.WARNING if quiet else (logging.DEBUG if verbosity > 0 else logging.INFO)
    try:
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            # Wide when not a terminal, so log files and CI output are not wrapped mid-line.
            console=Console(stderr=True, width=None if sys.stderr.isatty() else 160), show_path=False, markup=False, rich_tracebacks=False
        )
        handler.setFormatter(logging.Formatter("%(message)s", datefmt="%H:%M:%S"))
    except ImportError:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    handler.setLevel(level)
    log.addHandler(handler)
    return log


def add_file_log(log: logging.Logger, path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    log.addHandler(handler)
    return handler
