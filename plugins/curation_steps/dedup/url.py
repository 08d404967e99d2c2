"""URL-level de-duplication: of several fetches of one URL keep only the most recent.

docs/recipe.md section 1 ("URL level: of several crawls of one URL, keep only the most recent").
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from herd.plugins.curation_steps.configs import URLDedupConfig
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.dedup.spill import DropSet, Spill
from herd.plugins.curation_steps.text import hash64, id_hash

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str, drop_params: tuple[str, ...] = ("utm_", "fbclid", "gclid")) -> str:
    """Canonical form: lower-case scheme and host, no ``www.``, no default port, no fragment,
    no trailing slash, tracking parameters removed and the rest sorted. http and https are
    the same page."""
    url = url.strip()
    try:
        parts = urlsplit(url if "//" in url else "http://" + url)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:
        return url.lower()
    if host.startswith("www."):
        host = host[4:]
    scheme = parts.scheme.lower()
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not k.lower().startswith(drop_params))
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("", netloc, path, urlencode(query), ""))


def fetch_timestamp(value: str | None) -> float:
    """Seconds since the epoch of an ISO-8601 / WARC date or a number; ``-inf`` when missing or
    unparseable (such a fetch loses to any dated one)."""
    if not value:
        return -math.inf
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return -math.inf
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


class URLDedup:
    """Documents without a URL pass. Ties on fetch time keep the lowest id hash.
    Reason: ``url_dedup.older_fetch``."""

    name = "url_dedup"

    def __init__(self, cfg: URLDedupConfig | None = None):
        self.cfg = cfg or URLDedupConfig()
        self.params = tuple(self.cfg.drop_params)
        self.spill = Spill(self.name, {"url": np.uint64, "time": np.float64, "id": np.uint64}, self.cfg.spill_dir)
        self.drops = DropSet(np.zeros(0, np.uint64))

    def sketch(self, doc: Document) -> tuple[int, float] | None:
        """(normalised URL hash, fetch time), or ``None`` without a URL."""
        if not doc.url:
            return None
        return hash64(normalize_url(doc.url, self.params)), fetch_timestamp(doc.fetch_time)

    def observe_sketch(self, doc_id: str, sketch: tuple[int, float] | None) -> None:
        if sketch is not None:
            self.spill.append(url=sketch[0], time=sketch[1], id=id_hash(doc_id))

    def observe(self, doc: Document) -> None:
        self.observe_sketch(doc.id, self.sketch(doc))

    def finalize(self, workdir: Path) -> None:
        urls, times, ids = (self.spill.column(k, mmap=False) for k in ("url", "time", "id"))
        order = np.lexsort((ids, -times, urls))  # by URL, newest first, then id hash
        urls, ids = urls[order], ids[order]
        older = np.zeros(len(ids), bool)
        older[1:] = urls[1:] == urls[:-1]
        self.drops = DropSet(ids[older])
        self.drops.save(Path(workdir) / self.name / "drop_ids.npy")
        self.spill.close()

    def apply(self, doc: Document) -> Document | Drop:
        if doc.url and id_hash(doc.id) in self.drops:
            return Drop("url_dedup.older_fetch", f"a more recent fetch of {doc.url} is kept")
        return doc
