"""Common words extraction, RULER's ``cwe`` task: a numbered list in which 10 words appear
``freq_common`` times and the rest ``freq_uncommon`` times; the answer is the 10. A solved
example list comes first, as in RULER. Below 4096 tokens RULER lowers the repeats (6 and 1)."""

from __future__ import annotations

import random

from herd.lib.long_context.haystack import word_pool
from herd.lib.long_context.sample import Composed, linear_first_size
from herd.lib.long_context.tasks import CWE_TEMPLATE, CommonWordsSettings
from herd.lib.long_context.token_counter import TokenCounter

SHORT = 4096  # RULER's threshold for its short-context repeats


def numbered(words: list[str]) -> str:
    return " ".join(f"{i + 1}. {word}" for i, word in enumerate(words))


class CommonWordsBuilder:
    """Size: entries in the list. Past the word pool, every repeat count is multiplied
    by the same factor, so the 10 common words stay the only most frequent ones."""

    def __init__(self, settings: CommonWordsSettings, counter: TokenCounter, rng: random.Random, length: int):
        self.counter, self.num = counter, settings.num_common
        short = length < SHORT
        self.freqs = (6, 1) if short else (settings.freq_common, settings.freq_uncommon)
        example_words, example_freqs = (20, (3, 1)) if short else (40, (10, 3))
        words = list(word_pool())
        rng.shuffle(words)
        self.words, example = words[:len(words) - example_words], words[len(words) - example_words:]
        self.list_seed = rng.getrandbits(64)
        ex_list = example[:self.num] * example_freqs[0] + example[self.num:] * example_freqs[1]
        rng.shuffle(ex_list)
        self.example = (CWE_TEMPLATE.format(context=numbered(ex_list)) + " " + numbered(example[:self.num]) + "\n")
        self.min_size = self.num * self.freqs[0]
        self._fixed: int | None = None
        self._unit: float | None = None

    def counts(self, size: int) -> tuple[int, int, int]:
        """(repeats of a common word, repeats of an uncommon word, uncommon words)."""
        common, uncommon = self.freqs
        pool = len(self.words) - self.num
        scale = 1
        while (size - self.num * common * scale) / (uncommon * scale) > pool:
            scale += 1
        n_uncommon = max(0, (size - self.num * common * scale) // (uncommon * scale))
        return common * scale, uncommon * scale, n_uncommon

    def compose(self, size: int) -> Composed:
        common, uncommon, n_uncommon = self.counts(max(size, self.min_size))
        top = self.words[:self.num]
        entries = top * common + self.words[self.num:self.num + n_uncommon] * uncommon
        random.Random(self.list_seed).shuffle(entries)
        return Composed(self.example + CWE_TEMPLATE.format(context=numbered(entries)), list(top))

    def unit_tokens(self) -> float:
        if self._unit is None:
            probe = self.words[:400]
            self._unit = self.counter.count(" " + " ".join(f"{1000 + i}. {w}" for i, w in enumerate(probe))) / len(probe)
        return self._unit

    def first_size(self, budget: int, hint: int | None) -> int:
        if self._fixed is None:
            self._fixed = self.counter.count(self.compose(self.min_size).input)
        return linear_first_size(self, self._fixed, budget, hint)
