"""``generate_samples``: K samples of one task, each within [0.97 N, N] tokens.

Each sample's needles, keys and answers are drawn first from a seed of its own (so a
sample depends only on the seed, task, length and its index); then its haystack is sized.
Builders guess the size from token counts (the haystack was tokenised once); each guess is
checked by tokenising the sample's input once (the samples of a round together, on every
core), and the few that miss the window are corrected from the measured count, by the
slope between two measurements once there are two.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field

from herd.core.errors import ConfigError
from herd.lib.long_context.common_words import CommonWordsBuilder
from herd.lib.long_context.freq_words import FreqWordsBuilder
from herd.lib.long_context.haystack import Haystacks
from herd.lib.long_context.niah import NiahBuilder
from herd.lib.long_context.sample import Builder, Sample
from herd.lib.long_context.tasks import TaskSpec
from herd.lib.long_context.token_counter import TokenCounter
from herd.lib.long_context.variable_tracking import VariableTrackingBuilder

LOWER = 0.97  # a sample's length lies in [LOWER * N, N]
CHUNK = 32  # samples checked together (one batch tokenisation per round)
MAX_ROUNDS = 12


def depth_of(index: int, samples: int) -> int:
    """Needle depths evenly spread over the samples, 0% (start) to 100% (end)."""
    return 50 if samples == 1 else round(100 * index / (samples - 1))


def make_builder(task: TaskSpec, counter: TokenCounter, haystacks: Haystacks, rng: random.Random,
                 length: int, depth: int) -> Builder:
    if task.kind == "niah":
        return NiahBuilder(task.settings, counter, haystacks, rng, depth)
    if task.kind == "variable_tracking":
        return VariableTrackingBuilder(task.settings, counter, haystacks, rng)
    if task.kind == "common_words_extraction":
        return CommonWordsBuilder(task.settings, counter, rng, length)
    return FreqWordsBuilder(task.settings, counter, rng, length)


@dataclass
class _Fit:
    builder: Builder
    size: int
    tried: dict[int, int] = field(default_factory=dict)  # size -> measured length


def generate_samples(task: TaskSpec, length: int, samples: int, counter: TokenCounter, seed: int,
                     haystacks: Haystacks | None = None, stream: str = "") -> list[Sample]:
    """``stream`` names a draw of needles of its own: the pretraining NIAH gate uses
    ``"niah-gate"`` so that no other user of a seed ever draws its keys and values; ""
    (``long-context generate``, ``eval-long``) keeps RULER-style files reproducible by seed."""
    if samples < 1:
        raise ConfigError(f"--samples {samples}: must be at least 1")
    haystacks = haystacks or Haystacks(counter)
    low = math.ceil(LOWER * length)
    budget = length - task.tokens_to_generate - max(2, length // 200)
    out: list[Sample] = []
    hint: int | None = None
    for first in range(0, samples, CHUNK):
        fits = []
        for index in range(first, min(samples, first + CHUNK)):
            rng = random.Random(sample_seed(stream, seed, task, length, index))
            builder = make_builder(task, counter, haystacks, rng, length, depth_of(index, samples))
            if index == 0:
                _check_fits(task, length, counter, builder)
            fits.append(_Fit(builder, max(builder.min_size, builder.first_size(budget, hint))))
        finished = _fit_chunk(task, length, low, counter, fits)
        hint = int(statistics.median(f.size for f in fits))
        out += [Sample(first + i, c.input, c.outputs, n, c.depth, c.query, c.needles) for i, (c, n) in enumerate(finished)]
    return out


def sample_seed(stream: str, seed: int, task: TaskSpec, length: int, index: int) -> str:
    """What sample ``index``'s needles are drawn from."""
    key = f"{seed}:{task.name}:{length}:{index}"
    return f"{stream}:{key}" if stream else key


def smallest_length(task: TaskSpec, length: int, counter: TokenCounter, seed: int,
                    haystacks: Haystacks | None = None) -> int:
    """Tokens of ``task``'s template, needles and question with an empty haystack, plus its
    answer budget: a sample of ``length`` needs ``LOWER * length`` at least this much."""
    builder = make_builder(task, counter, haystacks or Haystacks(counter), random.Random(f"{seed}:{task.name}:{length}:0"),
                           length, depth_of(0, 1))
    return _smallest(task, counter, builder)


def _smallest(task: TaskSpec, counter: TokenCounter, builder: Builder) -> int:
    return counter.count(builder.compose(builder.min_size).input) + task.tokens_to_generate


def _check_fits(task: TaskSpec, length: int, counter: TokenCounter, builder: Builder) -> None:
    smallest = _smallest(task, counter, builder)
    if smallest > LOWER * length:
        raise ConfigError(
            f"--length {length} is below task {task.name}'s own size with tokenizer {counter.source}: its template, "
            f"needles and question with an empty haystack, plus {task.tokens_to_generate} tokens to generate, "
            f"take {smallest} tokens; use --length {math.ceil(smallest / LOWER) + 1} or more")


def _fit_chunk(task: TaskSpec, length: int, low: int, counter: TokenCounter, fits: list[_Fit]):
    done: dict[int, tuple] = {}
    pending = list(range(len(fits)))
    for _ in range(MAX_ROUNDS):
        composed = [fits[i].builder.compose(fits[i].size) for i in pending]
        counts = counter.count_batch([c.input for c in composed])
        still = []
        for i, c, n in zip(pending, composed, counts):
            total = n + task.tokens_to_generate
            fit = fits[i]
            fit.tried[fit.size] = total
            if low <= total <= length:
                done[i] = (c, total)
                continue
            fit.size = _next_size(fit, total, low, length)
            still.append(i)
        pending = still
        if not pending:
            return [done[i] for i in range(len(fits))]
    worst = fits[pending[0]]
    raise ConfigError(
        f"task {task.name} at --length {length}: could not size sample {pending[0]} within "
        f"[{low}, {length}] tokens with tokenizer {counter.source} (tried {sorted(worst.tried.items())}); "
        f"one unit of its haystack is about {worst.builder.unit_tokens():.0f} tokens: use a larger --length")


def _next_size(fit: _Fit, total: int, low: int, high: int) -> int:
    target = (low + high) / 2
    sizes = sorted(fit.tried)
    slope = fit.builder.unit_tokens()
    if len(sizes) >= 2:  # the measured slope between the two nearest tries
        a, b = sorted(sizes, key=lambda s: abs(s - fit.size))[:2]
        if fit.tried[a] != fit.tried[b]:
            slope = max(1e-6, (fit.tried[b] - fit.tried[a]) / (b - a))
    step = round((target - total) / max(slope, 1e-6))
    step = min(step, -1) if total > high else max(step, 1)
    size = max(fit.builder.min_size, fit.size + step)
    while size in fit.tried:  # never measure one size twice: go one unit further
        size += 1 if total < low else -1
        if size < fit.builder.min_size:
            return fit.builder.min_size
    return size
