"""Token-distribution KL divergence filter (docs/recipe.md section 1, "Heuristic filters":
documents with an outlier token distribution compared to the corpus distribution).

``observe`` adds each document's token counts to a corpus histogram over ``bins`` hashed
token ids (the hashing trick keeps memory fixed whatever the vocabulary). ``finalize`` turns it
into the corpus distribution, smoothed by interpolation with the uniform distribution over the
bins (Jelinek-Mercer, weight ``smoothing``) so that no bin has zero probability whatever the
corpus size: ``q(t) = (1 - smoothing) * count(t) / total + smoothing / bins``. (Additive
smoothing would put ``alpha * bins`` pseudo-counts in, which swamps a small corpus.)
A document's score is ``KL(p_doc || q) = sum_t p_doc(t) * log(p_doc(t) / q(t))`` in nats,
``p_doc`` its own (unsmoothed) token frequencies.

The cut-off is ``max_kl`` when set, otherwise the ``percentile``-th percentile of the scores
of a deterministic sample of up to ``sample_size`` documents (those with the lowest id
hashes: a bottom-k sample, the same whatever the shard order), taken per language: a
Korean page is far from a corpus that is mostly English, so it is compared with the other
Korean pages' scores. A language with fewer than ``min_language_sample`` sampled documents
has no cut-off of its own and is not filtered (there is nothing to call it an outlier
against); documents of unknown language get the cut-off of the whole sample. Documents
under ``min_tokens`` are scored but never dropped (the KL of a 5-word text says little; the
length filter handles them).
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from herd.plugins.curation_steps.configs import TokenKLConfig
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.text import id_hash, token_hashes


class TokenKL:
    """Reason: ``token_kl.outlier``; every scored document gets ``scores["token_kl.kl"]``."""

    name = "token_kl"

    def __init__(self, cfg: TokenKLConfig | None = None):
        self.cfg = cfg or TokenKLConfig()
        self.counts = np.zeros(self.cfg.bins, np.int64)
        # bottom-k sample: max-heap of (negated id hash, tick, language, token bins of the doc)
        self._sample: list[tuple[int, int, str | None, np.ndarray]] = []
        self._tick = itertools.count()
        self._pending: list[np.ndarray] = []
        self._pending_tokens = 0
        self.log_q: np.ndarray | None = None
        self.threshold = float("inf")  # unknown language (and max_kl)
        self.thresholds: dict[str, float] = {}  # per language, from the sample

    def _bins(self, text: str) -> np.ndarray:
        bins = token_hashes(text) % np.uint64(self.cfg.bins)
        return bins.astype(np.uint32 if self.cfg.bins <= 1 << 32 else np.int64)

    def sketch(self, doc: Document) -> tuple[str | None, np.ndarray]:
        """The document's language and token bins, computed in the runner's worker processes."""
        return doc.language, self._bins(doc.text)

    def observe(self, doc: Document) -> None:
        self.observe_sketch(doc.id, self.sketch(doc))

    def observe_sketch(self, doc_id: str, sketch: tuple[str | None, np.ndarray]) -> None:
        language, bins = sketch
        if not len(bins):
            return
        self._pending.append(bins)
        self._pending_tokens += len(bins)
        if self._pending_tokens >= self.cfg.bins:
            self._flush()
        if len(bins) < self.cfg.min_tokens:
            return
        h = id_hash(doc_id)
        item = (-h, next(self._tick), language, bins)
        if len(self._sample) < self.cfg.sample_size:
            heapq.heappush(self._sample, item)
        elif -h > self._sample[0][0]:
            heapq.heapreplace(self._sample, item)

    def _flush(self) -> None:
        if self._pending:
            self.counts += np.bincount(np.concatenate(self._pending), minlength=self.cfg.bins)
        self._pending, self._pending_tokens = [], 0

    def finalize(self, workdir: Path) -> None:
        self._flush()
        total = self.counts.sum()
        lam = self.cfg.smoothing
        self.log_q = np.log((1 - lam) * self.counts / max(1, total) + lam / self.cfg.bins)
        self.counts = np.zeros(0, np.int64)  # not needed any more; keeps the pickled step small
        by_language: dict[str, list[float]] = defaultdict(list)
        for _, _, language, bins in self._sample:
            by_language[language or ""].append(self.kl(bins))
        scores = np.array([score for values in by_language.values() for score in values])
        if self.cfg.max_kl is not None:
            self.threshold = float(self.cfg.max_kl)
        elif len(scores):
            self.threshold = float(np.percentile(scores, self.cfg.percentile))
            self.thresholds = {
                language: float(np.percentile(values, self.cfg.percentile))
                for language, values in sorted(by_language.items())
                if language and len(values) >= self.cfg.min_language_sample
            }
        self._sample = []
        out = Path(workdir) / self.name
        out.mkdir(parents=True, exist_ok=True)
        (out / "stats.json").write_text(json.dumps(
            {"tokens": int(total), "sampled_documents": int(len(scores)), "threshold": self.threshold,
             "thresholds_by_language": self.thresholds,
             "sampled_by_language": {k or "unknown": len(v) for k, v in sorted(by_language.items())},
             "median_kl": float(np.median(scores)) if len(scores) else None}, indent=2))

    def cutoff(self, language: str | None) -> float:
        """The KL above which a document of ``language`` is an outlier (inf: not filtered)."""
        if self.cfg.max_kl is not None or not language:
            return self.threshold
        return self.thresholds.get(language, float("inf"))

    def kl(self, bins: np.ndarray) -> float:
        """KL divergence (nats) of a document given as its token bins, against the corpus."""
        values, counts = np.unique(bins, return_counts=True)
        p = counts / counts.sum()
        return float(np.sum(p * (np.log(p) - self.log_q[values])))

    def apply(self, doc: Document) -> Document | Drop:
        if self.log_q is None:
            raise RuntimeError("token_kl.apply called before finalize")
        bins = self._bins(doc.text)
        if not len(bins):
            return doc
        score = self.kl(bins)
        doc.scores["token_kl.kl"] = score
        cutoff = self.cutoff(doc.language)
        if len(bins) >= self.cfg.min_tokens and score > cutoff:
            return Drop("token_kl.outlier", f"KL {score:.2f} nats > {cutoff:.2f} ({doc.language or 'unknown'} language)")
        return doc
