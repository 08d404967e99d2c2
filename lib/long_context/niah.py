"""Needle in a haystack, RULER's ``niah`` task: needles "One of the special magic
{numbers} for {key} is: {value}." hidden in essays, in repeated noise sentences, or among
distractor needles, and a question about one or more keys."""

from __future__ import annotations

import random
import uuid

from herd.lib.long_context.haystack import Haystacks, TiledText, word_pool
from herd.lib.long_context.sample import Composed
from herd.lib.long_context.tasks import NIAH_NEEDLE, NIAH_TEMPLATE, NIAH_TEMPLATE_ONE, NiahSettings
from herd.lib.long_context.token_counter import TokenCounter


def random_item(kind: str, rng: random.Random) -> str:
    if kind == "numbers":
        return str(rng.randint(1_000_000, 9_999_999))
    if kind == "uuids":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    pool = word_pool()
    return f"{rng.choice(pool)}-{rng.choice(pool)}"  # RULER: an adjective-noun pair


def _distinct(kind: str, count: int, rng: random.Random, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        item = random_item(kind, rng)
        if item not in taken:
            taken.add(item)
            out.append(item)
    return out


def spread_depths(depth: int, count: int) -> list[float]:
    """``depth`` for the first needle, the others evenly around the context from there."""
    return [float(depth)] + [(depth + j * 100.0 / count) % 100.0 for j in range(1, count)]


class NiahBuilder:
    min_size = 0

    def __init__(self, settings: NiahSettings, counter: TokenCounter, haystacks: Haystacks,
                 rng: random.Random, depth: int):
        s = self.settings = settings
        self.counter, self.depth = counter, depth
        taken: set[str] = set()
        self.keys = _distinct(s.key_type, s.num_keys, rng, taken)
        self.values = [_distinct(s.value_type, s.num_values, rng, taken) for _ in self.keys]
        queried = rng.sample(range(s.num_keys), s.num_queries)
        self.outputs = [v for q in queried for v in self.values[q]]
        names = [self.keys[q] for q in queried]
        self.query = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", and " + names[-1]
        one = s.num_queries * s.num_values == 1
        self.template = NIAH_TEMPLATE_ONE if one else NIAH_TEMPLATE
        self.type_v = s.value_type[:-1] if one else s.value_type
        # The first queried needle sits at ``depth``; the rest, shuffled, spread after it.
        first = (queried[0], 0)
        rest = [(k, v) for k in range(s.num_keys) for v in range(s.num_values) if (k, v) != first]
        rng.shuffle(rest)
        order = [first] + rest
        self.needles = [NIAH_NEEDLE.format(type_needle_v=s.value_type, key=self.keys[k], value=self.values[k][v])
                        for k, v in order]
        self.depths = spread_depths(depth, len(self.needles))
        self.tiled: TiledText | None = None
        if s.haystack == "needle":
            self._distractor_rng = random.Random(rng.getrandbits(64))
            self._taken_keys = set(self.keys)
            self._distractors: list[str] = []
            self.start = 0
        else:
            self.tiled = haystacks.essay() if s.haystack == "essay" else haystacks.noise()
            self.start = rng.choice(haystacks.sentence_starts(s.haystack))
        self._fixed: int | None = None
        self._unit: float | None = None

    # --- text --------------------------------------------------------------------------
    def compose(self, size: int) -> Composed:
        context = self._tiled_context(size) if self.tiled is not None else self._needle_context(size)
        text = self.template.format(type_needle_v=self.type_v, context=context, query=self.query)
        return Composed(text, list(self.outputs), self.depth, self.query, tuple(self.needles))

    def _tiled_context(self, size: int) -> str:
        tiled, start = self.tiled, self.start
        points = sorted((tiled.snap(start, size, round(d / 100 * size)), i) for i, d in enumerate(self.depths))
        pieces, prev = [], 0
        for point, i in points:
            pieces += [tiled.text(start + prev, point - prev), self.needles[i]]
            prev = point
        pieces.append(tiled.text(start + prev, size - prev))
        sep = " " if self.settings.haystack == "essay" else "\n"
        return sep.join(p for p in pieces if p)

    def _distractor_lines(self, size: int) -> list[str]:
        s = self.settings
        while len(self._distractors) < size:
            key = _distinct(s.key_type, 1, self._distractor_rng, self._taken_keys)[0]
            value = random_item(s.value_type, self._distractor_rng)
            self._distractors.append(NIAH_NEEDLE.format(type_needle_v=s.value_type, key=key, value=value))
        return self._distractors[:size]

    def _needle_context(self, size: int) -> str:
        lines = list(self._distractor_lines(size))
        inserts = sorted(((round(d / 100 * size), i) for i, d in enumerate(self.depths)), reverse=True)
        for point, i in inserts:
            lines.insert(point, self.needles[i])
        return "\n".join(lines)

    # --- sizing ------------------------------------------------------------------------
    def fixed_tokens(self) -> int:
        if self._fixed is None:
            self._fixed = self.counter.count(self.compose(0).input)
        return self._fixed

    def unit_tokens(self) -> float:
        if self._unit is None:
            if self.tiled is not None:
                self._unit = self.tiled.cum[-1] / self.tiled.words
            else:
                probe = self._distractor_lines(16)
                self._unit = sum(self.counter.count_batch(["\n" + line for line in probe])) / len(probe)
        return self._unit

    def first_size(self, budget: int, hint: int | None) -> int:
        room = budget - self.fixed_tokens()
        if self.tiled is not None:
            return self.tiled.words_within(self.start, room)
        if hint is not None:
            return hint
        return max(0, int(room / self.unit_tokens()))

