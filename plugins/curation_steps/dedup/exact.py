"""Exact document de-duplication: one survivor per identical (whitespace-trimmed) text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xxhash

from herd.plugins.curation_steps.configs import ExactDedupConfig
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.dedup.spill import DropSet, Spill
from herd.plugins.curation_steps.text import id_hash


class ExactDedup:
    """Keeps, of every group of documents with the same text (128-bit xxh3), the one whose id
    hashes lowest — a choice independent of shard order. Reason: ``exact_dedup.duplicate``."""

    name = "exact_dedup"

    def __init__(self, cfg: ExactDedupConfig | None = None):
        self.cfg = cfg or ExactDedupConfig()
        self.spill = Spill(self.name, {"hi": np.uint64, "lo": np.uint64, "id": np.uint64}, self.cfg.spill_dir)
        self.drops = DropSet(np.zeros(0, np.uint64))

    def sketch(self, doc: Document) -> int:
        """The text's 128-bit hash (computed in the runner's worker processes)."""
        return xxhash.xxh3_128_intdigest(doc.text.strip().encode("utf-8", "surrogatepass"))

    def observe_sketch(self, doc_id: str, digest: int) -> None:
        self.spill.append(hi=digest >> 64, lo=digest & 0xFFFFFFFFFFFFFFFF, id=id_hash(doc_id))

    def observe(self, doc: Document) -> None:
        self.observe_sketch(doc.id, self.sketch(doc))

    def finalize(self, workdir: Path) -> None:
        hi, lo, ids = (self.spill.column(k, mmap=False) for k in ("hi", "lo", "id"))
        order = np.lexsort((ids, lo, hi))  # by text hash, then id hash
        hi, lo, ids = hi[order], lo[order], ids[order]
        same_as_previous = np.zeros(len(ids), bool)
        same_as_previous[1:] = (hi[1:] == hi[:-1]) & (lo[1:] == lo[:-1])
        self.drops = DropSet(ids[same_as_previous])
        self.drops.save(Path(workdir) / self.name / "drop_ids.npy")
        self.spill.close()

    def apply(self, doc: Document) -> Document | Drop:
        if id_hash(doc.id) in self.drops:
            return Drop("exact_dedup.duplicate", "another document has the same text")
        return doc
