"""Mixing to target token proportions (docs/recipe.md section 1: final pretraining mix ~50% general
knowledge, 25% math and reasoning, 17% code, 8% multilingual).

Each domain's target is ``proportion * total`` tokens, ``total`` being ``total_tokens`` or,
when 0, the number of tokens the corpus has (the mix keeps the corpus size and changes its
shape). A domain with fewer tokens than its target is up-sampled: every document repeated
``floor(r)`` times plus a seeded random subset once more, ``r = target / available``, capped at
``max_repeats`` (4 epochs of repeated data cost little, Muennighoff et al. 2023, "Scaling
Data-Constrained Language Models"). A domain with more is down-sampled by a seeded random
subset. Domains with no documents cannot reach their target: the report shows it
(``achieved`` vs ``target``). Tokens are whitespace words unless a document carries
``metadata["tokens"]``.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from herd.plugins.curation_steps.configs import DomainMixConfig
from herd.core.errors import ConfigError
from herd.core.protocols import MixPlan
from herd.core.records import Document
from herd.plugins.curation_steps.text import id_hash


def _tokens(doc: Document) -> int:
    given = doc.metadata.get("tokens") if doc.metadata else None
    return int(given) if isinstance(given, (int, float)) and given > 0 else len(doc.text.split())


class DomainMix:
    name = "domain_mix"

    def __init__(self, cfg: DomainMixConfig | None = None):
        self.cfg = cfg or DomainMixConfig()
        total = sum(self.cfg.proportions.values())
        if total <= 0 or any(v < 0 for v in self.cfg.proportions.values()):
            raise ConfigError("[mixers.domain_mix] proportions must be non-negative and not all zero")
        if self.cfg.max_repeats < 1:
            raise ConfigError("[mixers.domain_mix] max_repeats must be >= 1")
        self.target = {k: v / total for k, v in self.cfg.proportions.items()}

    def plan(self, docs: Iterable[Document]) -> MixPlan:
        by_domain: dict[str, list[tuple[int, str, int]]] = {d: [] for d in self.target}
        for doc in docs:
            domain = doc.domain if doc.domain in self.target else self.cfg.unknown_domain
            if domain not in by_domain:
                raise ConfigError(f"[mixers.domain_mix] unknown_domain {domain!r} is not in proportions")
            by_domain[domain].append((id_hash(doc.id), doc.id, _tokens(doc)))
        available = {d: sum(t for _, _, t in rows) for d, rows in by_domain.items()}
        total = self.cfg.total_tokens or sum(available.values())
        repeats: dict[str, int] = {}
        got: dict[str, int] = {}
        for k, (domain, rows) in enumerate(sorted(by_domain.items())):
            rows.sort()  # by id hash: the same order whatever order documents came in
            got[domain] = self._sample(rows, self.target[domain] * total, repeats,
                                       np.random.default_rng([self.cfg.seed, k]))
        mixed = sum(got.values())
        achieved = {d: (got[d] / mixed if mixed else 0.0) for d in self.target}
        return MixPlan(repeats=repeats, target=dict(self.target), achieved=achieved)

    def _sample(self, rows: list[tuple[int, str, int]], target: float, repeats: dict[str, int],
                rng: np.random.Generator) -> int:
        available = sum(t for _, _, t in rows)
        if not rows or available == 0:
            return 0
        ratio = min(target / available, float(self.cfg.max_repeats))
        base = int(ratio)
        for _, doc_id, _ in rows:
            repeats[doc_id] = base
        got = base * available
        remaining = ratio * available - got
        for i in rng.permutation(len(rows)):
            if remaining <= 0:
                break
            _, doc_id, toks = rows[i]
            if toks > 2 * remaining:
                continue  # a document much larger than what is left would overshoot
            repeats[doc_id] += 1
            got += toks
            remaining -= toks
        return got
