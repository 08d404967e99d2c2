"""Frequent words extraction, RULER's ``fwe`` task: coded words drawn from a Zipf
distribution (word of rank k appears ``int(n k^-alpha / zeta(alpha))`` times); the
top-ranked word is "..." (noise the prompt says to ignore), the answer the next three."""

from __future__ import annotations

import random
import string

from herd.lib.long_context.sample import Composed, linear_first_size
from herd.lib.long_context.tasks import FWE_TEMPLATE, FreqWordsSettings
from herd.lib.long_context.token_counter import TokenCounter

NOISE_WORD = "..."
ANSWERS = 3


def zeta(alpha: float, terms: int = 1000) -> float:
    """Riemann zeta for alpha > 1: a partial sum and its Euler-Maclaurin tail."""
    partial = sum(k ** -alpha for k in range(1, terms))
    return partial + terms ** (1 - alpha) / (alpha - 1) + 0.5 * terms ** -alpha


class FreqWordsBuilder:
    """Size: ``n`` of the Zipf counts. RULER's vocabulary has ``length // 50`` words."""

    def __init__(self, settings: FreqWordsSettings, counter: TokenCounter, rng: random.Random, length: int):
        self.counter, self.alpha = counter, settings.alpha
        size = max(ANSWERS + 2, length // 50)
        vocab: set[str] = set()
        while len(vocab) < size:
            vocab.add("".join(rng.choices(string.ascii_lowercase, k=settings.coded_word_length)))
        self.vocab = sorted(vocab)
        rng.shuffle(self.vocab)
        self.vocab[0] = NOISE_WORD
        self.weights = [k ** -self.alpha / zeta(self.alpha) for k in range(1, len(self.vocab) + 1)]
        self.list_seed = rng.getrandbits(64)
        self.min_size = self._smallest_clear()
        self._fixed: int | None = None
        self._unit: float | None = None

    def counts(self, size: int) -> list[int]:
        return [int(size * w) for w in self.weights]

    def _smallest_clear(self) -> int:
        """The smallest n at which the three answers are strictly more frequent than every
        other coded word and strictly ordered (so "the three most frequent" is one set)."""
        n = 1
        while True:
            c = self.counts(n)
            if all(c[i] > c[i + 1] for i in range(1, ANSWERS + 1)) and c[ANSWERS] > 0:
                return n
            n += 1

    def compose(self, size: int) -> Composed:
        words = [w for w, c in zip(self.vocab, self.counts(max(size, self.min_size))) for _ in range(c)]
        random.Random(self.list_seed).shuffle(words)
        return Composed(FWE_TEMPLATE.format(context=" ".join(words)), self.vocab[1:ANSWERS + 1])

    def unit_tokens(self) -> float:
        if self._unit is None:
            costs = self.counter.count_batch([" " + w for w in self.vocab])
            self._unit = sum(c * w for c, w in zip(costs, self.weights))
        return self._unit

    def first_size(self, budget: int, hint: int | None) -> int:
        if self._fixed is None:
            self._fixed = self.counter.count(self.compose(self.min_size).input)
        return linear_first_size(self, self._fixed, budget, hint)
