"""``[long_documents]``: the config of the ``long_documents`` stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from herd.core.config import positive


@dataclass
class LongDocumentsConfig:
    """``[long_documents]``: the installed packages whose source becomes long documents.
    The default names standard-library packages, so the corpus is the same wherever this
    Python version runs; any installed package may be added."""

    packages: list[str] = field(default_factory=lambda: [
        "email", "json", "asyncio", "http", "logging", "unittest", "importlib", "xml", "concurrent",
        "multiprocessing", "urllib", "ctypes", "re", "tkinter", "wsgiref", "xmlrpc", "html", "zoneinfo", "tomllib",
    ])
    # A document holds whole files up to this many characters (about 2 characters a token
    # with the default profile's 512-token vocabulary): several times the longest step.
    max_chars: int = positive(20_000)

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"packages": ["email", "json"], "max_chars": 4_000},
        "full": {"max_chars": 2_000_000},
    }
