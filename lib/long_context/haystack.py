"""Haystacks tokenised once and sized by arithmetic on token counts.

RULER re-tokenises a growing haystack until it is long enough. Here a haystack's base text
(the essays, or the noise sentences) is tokenised once; every word gets the number of tokens
that start inside it (its leading space included), and the token count of any run of words,
wrapping around the base text as often as needed, is a difference of prefix sums. A sample
then needs one tokenisation of its final input to be verified.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from herd.lib.long_context.tasks import NOISE
from herd.lib.long_context.token_counter import TokenCounter

DATA = Path(__file__).resolve().parent / "data"
ESSAYS = DATA / "essays.txt"
WORDS = DATA / "words.txt"
_SENTENCE_END = re.compile(r"[.!?][\"')]*$")


def _data_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]


@lru_cache(maxsize=1)
def essay_text() -> str:
    """The essays' paragraphs on one line, single-spaced, as RULER flattens its essays
    (titles, which end without a full stop, are left out)."""
    paragraphs = [line.strip() for line in _data_lines(ESSAYS) if _SENTENCE_END.search(line.strip())]
    return " ".join(paragraphs)


@lru_cache(maxsize=1)
def word_pool() -> tuple[str, ...]:
    return tuple(w.strip() for w in _data_lines(WORDS) if w.strip())


@dataclass
class TiledText:
    """``base`` repeated without end, addressed by word index. ``cum[i]``: tokens of the
    first ``i`` words of one copy; ``breaks[i]``: word ``i`` starts a sentence (essay) or a
    line (noise), where a needle may go."""

    base: str
    starts: list[int]
    ends: list[int]
    cum: list[int]
    breaks: list[bool]

    @classmethod
    def build(cls, base: str, counter: TokenCounter, break_before: str) -> "TiledText":
        spans = [m.span() for m in re.finditer(r"\S+", base)]
        starts, ends = [s for s, _ in spans], [e for _, e in spans]
        per_word = _tokens_per_word(base, starts, ends, counter)
        cum = [0]
        for n in per_word:
            cum.append(cum[-1] + n)
        breaks = [i == 0 or _is_break(base, starts[i], ends[i - 1], break_before) for i in range(len(starts))]
        return cls(base, starts, ends, cum, breaks)

    @property
    def words(self) -> int:
        return len(self.starts)

    def _cum(self, i: int) -> int:
        cycles, rest = divmod(i, self.words)
        return cycles * self.cum[-1] + self.cum[rest]

    def tokens(self, start: int, n: int) -> int:
        """Tokens of words ``start .. start + n`` (wrapping)."""
        return self._cum(start + n) - self._cum(start)

    def words_within(self, start: int, budget: int) -> int:
        """The most words from ``start`` whose tokens fit in ``budget``."""
        if budget <= 0:
            return 0
        base = self._cum(start)
        cycles = max(0, (budget // max(1, self.cum[-1])) - 1)
        lo = cycles * self.words  # fits: whole cycles minus one stay under budget
        hi = lo + 2 * self.words + 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._cum(start + mid) - base <= budget:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def is_break(self, i: int) -> bool:
        return self.breaks[i % self.words]

    def snap(self, start: int, n: int, target: int) -> int:
        """The insertion point nearest ``target`` (0..n) at a sentence/line start."""
        for step in range(n + 1):
            for idx in (target - step, target + step):
                if 0 <= idx <= n and (idx in (0, n) or self.is_break(start + idx)):
                    return idx
        return 0

    def text(self, start: int, n: int) -> str:
        """The words ``start .. start + n`` with the base text's own spacing."""
        if n <= 0:
            return ""
        size, w = len(self.base), self.words
        lo = (start // w) * size + self.starts[start % w]
        last = start + n - 1
        hi = (last // w) * size + self.ends[last % w]
        first_copy = lo // size
        copies = hi // size - first_copy + 1
        offset = first_copy * size
        return (self.base * copies)[lo - offset:hi - offset]

    def sentence_starts(self) -> list[int]:
        return [i for i, b in enumerate(self.breaks) if b]


def _is_break(base: str, start: int, prev_end: int, break_before: str) -> bool:
    gap = base[prev_end:start]
    if break_before == "line":
        return "\n" in gap
    return bool(_SENTENCE_END.search(base[:prev_end][-3:])) and base[start].isupper()


def _tokens_per_word(base: str, starts: list[int], ends: list[int], counter: TokenCounter) -> list[int]:
    # Tokenise two copies and count the second, so the first word is measured after the
    # base text's own end, as it is when the haystack wraps around.
    offsets = counter.token_starts(base + base)
    if offsets is None:  # a slow tokenizer: count each word with the gap before it
        pieces = [base[(ends[i - 1] if i else 0):ends[i]] for i in range(len(starts))]
        return counter.count_batch(pieces)
    counts = [0] * len(starts)
    size = len(base)
    for offset in offsets:
        if offset < size:
            continue
        word = bisect.bisect_right(ends, offset - size)
        counts[min(word, len(counts) - 1)] += 1
    return counts


def essay_haystack(counter: TokenCounter) -> TiledText:
    return TiledText.build(essay_text() + " ", counter, "sentence")


def noise_haystack(counter: TokenCounter) -> TiledText:
    return TiledText.build(NOISE + "\n", counter, "line")


class Haystacks:
    """The essay and noise haystacks of one tokenizer, each tokenised once, on first use."""

    def __init__(self, counter: TokenCounter):
        self.counter = counter
        self._essay: TiledText | None = None
        self._noise: TiledText | None = None
        self._starts: dict[str, list[int]] = {}

    def essay(self) -> TiledText:
        if self._essay is None:
            self._essay = essay_haystack(self.counter)
        return self._essay

    def noise(self) -> TiledText:
        if self._noise is None:
            self._noise = noise_haystack(self.counter)
        return self._noise

    def sentence_starts(self, kind: str) -> list[int]:
        if kind not in self._starts:
            self._starts[kind] = (self.essay() if kind == "essay" else self.noise()).sentence_starts()
        return self._starts[kind]
