"""Variable tracking, RULER's ``vt`` task: chains "VAR B = VAR A" starting from
"VAR A = 12345" hidden in repeated noise; the model names every variable that holds the
value. As in RULER, a short solved example comes first (3-letter names, its own value)."""

from __future__ import annotations

import random
import string

from herd.lib.long_context.haystack import Haystacks
from herd.lib.long_context.sample import Composed
from herd.lib.long_context.tasks import VT_TEMPLATE, VariableTrackingSettings
from herd.lib.long_context.token_counter import TokenCounter

EXAMPLE_NOISE_LINES = 6  # RULER's example is a sample of about 500 tokens; its chain needs 5 places


def _names(count: int, letters: int, rng: random.Random, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        name = "".join(rng.choices(string.ascii_uppercase, k=letters))
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def chain_statements(names: list[str], value: str) -> list[str]:
    return [f"VAR {names[0]} = {value}"] + [f"VAR {names[j + 1]} = VAR {names[j]}" for j in range(len(names) - 1)]


class VariableTrackingBuilder:
    min_size = 0

    def __init__(self, settings: VariableTrackingSettings, counter: TokenCounter, haystacks: Haystacks,
                 rng: random.Random):
        self.counter, self.settings = counter, settings
        self.tiled = haystacks.noise()
        taken_names: set[str] = set()
        values = [str(v) for v in rng.sample(range(10_000, 100_000), settings.num_chains + 1)]
        self.chains = [_names(settings.num_hops + 1, 5, rng, taken_names) for _ in range(settings.num_chains)]
        self.value = values[0]
        self.statements = [chain_statements(names, value) for names, value in zip(self.chains, values)]
        # Each statement's place as a fraction of the context, in chain order, so every
        # variable is assigned before it is read.
        self.fractions = [sorted(rng.random() for _ in chain) for chain in self.statements]
        self.example = self._example(rng, taken_names, values[-1])
        self._fixed: int | None = None

    def _example(self, rng: random.Random, taken: set[str], value: str) -> str:
        hops = min(10, self.settings.num_hops)
        names = _names(hops + 1, 3, rng, taken)
        lines = [self.tiled.text(0, self.tiled.words)] * EXAMPLE_NOISE_LINES
        points = sorted(rng.sample(range(EXAMPLE_NOISE_LINES + 1), hops + 1))
        for j, statement in enumerate(chain_statements(names, value)):
            lines.insert(points[j] + j, statement)
        prompt = VT_TEMPLATE.format(context="\n".join(lines), query=value, num_v=hops + 1)
        return f"{prompt}{' '.join(names)}\n\n"

    def compose(self, size: int) -> Composed:
        tiled = self.tiled
        points = sorted((tiled.snap(0, size, round(f * size)), c, j)
                        for c, fractions in enumerate(self.fractions) for j, f in enumerate(fractions))
        pieces, prev = [], 0
        for point, c, j in points:
            pieces += [tiled.text(prev, point - prev), self.statements[c][j]]
            prev = point
        pieces.append(tiled.text(prev, size - prev))
        context = "\n".join(p for p in pieces if p)
        text = self.example + VT_TEMPLATE.format(context=context, query=self.value, num_v=self.settings.num_hops + 1)
        return Composed(text, list(self.chains[0]))

    def unit_tokens(self) -> float:
        return self.tiled.cum[-1] / self.tiled.words

    def first_size(self, budget: int, hint: int | None) -> int:
        if self._fixed is None:
            self._fixed = self.counter.count(self.compose(0).input)
        return self.tiled.words_within(0, budget - self._fixed)
