"""Line-level de-duplication (docs/recipe.md section 1): remove lines that occur more than 6 times
within each bucket of 30M documents (navigation menus, cookie banners...).

Documents are put in buckets of exactly ``bucket_size`` documents (the last one smaller) in
the order of their id hashes — a random but deterministic split, independent of shard order.
A corpus smaller than ``bucket_size`` is one bucket, so the rule scales down to small corpora
by itself; ``bucket_size`` is configurable (the ``quick`` profile uses small buckets so that
the bucketing is exercised). A line counts once per
document. Every occurrence of a too-frequent line is removed, the first one included, as in
the recipe; a document left without any non-blank line is dropped.

Memory: (line hash, id hash) rows are spilled to ``partitions`` files by line hash while
observing; ``finalize`` counts one partition at a time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from herd.plugins.curation_steps.configs import LineDedupConfig
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.dedup.spill import Spill
from herd.plugins.curation_steps.text import hash64, id_hash

_MIX = np.uint64(0x9E3779B97F4A7C15)


def _line_key(line_hashes: np.ndarray, bucket: int | np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return line_hashes ^ ((np.asarray(bucket, np.uint64) + np.uint64(1)) * _MIX)


class LineDedup:
    """Reason: ``line_dedup.all_lines_duplicated``; kept documents that lost lines get
    ``metadata["line_dedup.removed_lines"]``."""

    name = "line_dedup"

    def __init__(self, cfg: LineDedupConfig | None = None):
        self.cfg = cfg or LineDedupConfig()
        cols = {"line": np.uint64, "id": np.uint64}
        self.parts = [Spill(f"{self.name}-{p}", cols, self.cfg.spill_dir) for p in range(self.cfg.partitions)]
        self.doc_ids = Spill(f"{self.name}-ids", {"id": np.uint64}, self.cfg.spill_dir)
        self.documents = 0
        self.boundaries = np.zeros(0, np.uint64)  # first id hash of buckets 1, 2, ...
        self.frequent = np.zeros(0, np.uint64)

    def _hashes(self, text: str) -> tuple[list[str], np.ndarray]:
        raw_lines = text.split("\n")
        shortest = self.cfg.min_line_chars
        hashes = np.fromiter(
            (hash64(line) if len(line) >= shortest else 0 for line in map(str.strip, raw_lines)),
            np.uint64, len(raw_lines))
        return raw_lines, hashes

    def sketch(self, doc: Document) -> np.ndarray:
        """The distinct hashes of the document's lines (computed in the worker processes)."""
        _, hashes = self._hashes(doc.text)
        return np.unique(hashes[hashes != 0])

    def observe(self, doc: Document) -> None:
        self.observe_sketch(doc.id, self.sketch(doc))

    def observe_sketch(self, doc_id: str, unique: np.ndarray) -> None:
        self.documents += 1
        owner = id_hash(doc_id)
        self.doc_ids.append(id=owner)
        if not len(unique):
            return
        part = unique % np.uint64(self.cfg.partitions)
        for p in np.unique(part):
            rows = unique[part == p]
            self.parts[int(p)].append(line=rows, id=np.full(len(rows), owner, np.uint64))

    def finalize(self, workdir: Path) -> None:
        ids_sorted = np.sort(self.doc_ids.column("id", mmap=False))
        self.doc_ids.close()
        self.boundaries = ids_sorted[max(1, self.cfg.bucket_size)::max(1, self.cfg.bucket_size)].copy()
        del ids_sorted
        frequent = []
        for spill in self.parts:
            lines, ids = spill.column("line", mmap=False), spill.column("id", mmap=False)
            spill.close()
            if not len(lines):
                continue
            keys = _line_key(lines, self.bucket(ids))
            values, counts = np.unique(keys, return_counts=True)
            frequent.append(values[counts > self.cfg.max_occurrences])
        self.frequent = np.sort(np.concatenate(frequent)) if frequent else np.zeros(0, np.uint64)
        out = Path(workdir) / self.name
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / "frequent_lines.npy", self.frequent)
        (out / "stats.json").write_text(json.dumps(
            {"documents": self.documents, "buckets": len(self.boundaries) + 1,
             "frequent_lines": len(self.frequent)}, indent=2))

    def bucket(self, id_hashes: np.ndarray | int) -> np.ndarray:
        """Bucket number of documents given by id hash."""
        return np.searchsorted(self.boundaries, np.asarray(id_hashes, np.uint64), side="right")

    def apply(self, doc: Document) -> Document | Drop:
        if not len(self.frequent):
            return doc
        raw_lines, hashes = self._hashes(doc.text)
        keys = _line_key(hashes, self.bucket(id_hash(doc.id)))
        pos = np.searchsorted(self.frequent, keys).clip(max=len(self.frequent) - 1)
        remove = (self.frequent[pos] == keys) & (hashes != 0)
        if not remove.any():
            return doc
        kept = [line for line, r in zip(raw_lines, remove) if not r]
        if not any(line.strip() for line in kept):
            return Drop("line_dedup.all_lines_duplicated", f"all {int(remove.sum())} lines are frequent in the bucket")
        doc.text = "\n".join(kept)
        doc.metadata["line_dedup.removed_lines"] = int(remove.sum())
        return doc
