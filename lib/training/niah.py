"""The needle-in-a-haystack gate of the long-context pretraining steps (docs/recipe.md section
4.2: a step ends only when the needle is found at its length).

The gate asks RULER's ``niah_single_1`` (NVIDIA/RULER), built by ``lib.long_context`` (the
generator behind ``long-context generate``, ``eval-long`` and the ``long_context``
evaluator): RULER's noise haystack ("The grass is green. The sky is blue. ..."), one needle
"One of the special magic numbers for {key} is: {value}." and RULER's question, whose
answer prefix ends the prompt. Samples are sized with the model's own tokenizer to the
step's length under the evaluator's rule: prompt plus answer budget within [0.97 N, N]
tokens (``lib.long_context.generate.LOWER``); the gate's budget is ``ANSWER_TOKENS`` (it
forces the answer instead of generating RULER's 128 tokens). Trial ``i`` of ``K`` puts its
needle at depth ``round(100 i / (K - 1))``%. A trial passes when greedy decoding
(teacher-forced, one forward pass) reproduces every token of the value.

Keys and values come from the ``GATE_STREAM`` draw, which no synthesizer or other command
uses; the noise haystack is no training data either (tests/lib/training/test_niah.py and
the trainers' data tests check it).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import torch

from herd.core.errors import ConfigError
from herd.lib.long_context.generate import LOWER, generate_samples, make_builder
from herd.lib.long_context.haystack import Haystacks, word_pool
from herd.lib.long_context.tasks import TaskSpec, task_spec
from herd.lib.long_context.token_counter import TokenCounter

# At most the tokens of " 1234567" in a byte-level BPE (a space and seven digits).
VALUE_TOKENS = 8
# The tokens the gate leaves for the answer (BOS plus a 7-digit value: at most 8 tokens in
# a byte-level BPE, so 16 always holds it); RULER's 128 is for free generation.
ANSWER_TOKENS = 16
GATE_TASK: TaskSpec = replace(task_spec("niah_single_1"), tokens_to_generate=ANSWER_TOKENS)
GATE_STREAM = "niah-gate"


@dataclass(frozen=True)
class NeedleCase:
    """One trial: ``prompt`` ends where the answer begins; ``answer`` is what the model must
    continue it with (the value after a space); ``length``: the prompt's tokens plus
    ``ANSWER_TOKENS``."""

    prompt: str
    answer: str
    key: str
    value: str
    needle: str
    depth: int
    length: int

    def to_row(self) -> dict:
        return asdict(self)


def gate_counter(tokenizer) -> TokenCounter:
    return TokenCounter.of(tokenizer)


@lru_cache(maxsize=8)  # per tokenizer object: a run asks it at every check
def gate_min_length(tokenizer) -> int:
    """The shortest step length the gate can be asked at with ``tokenizer``, for any trial:
    RULER's template and question with an empty haystack, plus an upper bound of any key
    (twice the most tokens of a word of the pool, and the hyphen) at each of its three places
    and of any 7-digit value, plus the answer budget, are ``LOWER`` of it."""
    counter = gate_counter(tokenizer)
    builder = make_builder(GATE_TASK, counter, Haystacks(counter), random.Random(0), 0, 0)
    words = list(word_pool())
    longest = max(counter.count_batch(words) + counter.count_batch([" " + w for w in words]))
    bound = counter.count(builder.compose(0).input) + 3 * (2 * longest + 2) + VALUE_TOKENS + ANSWER_TOKENS
    return math.ceil(bound / LOWER)


def gate_unfit(tokenizer, length: int) -> str | None:
    """Why the gate cannot be asked at ``length`` tokens, or None when it can."""
    need = gate_min_length(tokenizer)
    if length >= need:
        return None
    # No tokenizer path here: the reason is stored in the stage's checkpointed status, which
    # must not depend on where the run directory is (a resumed run equals an uninterrupted one).
    return (f"the NIAH gate (RULER {GATE_TASK.name}) needs at least {need} tokens with the model's tokenizer "
            f"(its template, needle and question alone, with the longest key, plus "
            f"{ANSWER_TOKENS} for the answer); a step of {length} tokens cannot hold it: use long-context lengths of "
            f"{need} or more")


def gate_cases(tokenizer, length: int, trials: int, seed: int) -> list[NeedleCase]:
    """The trials ``niah_accuracy`` asks at ``length`` tokens, in order (a function of the
    tokenizer, length, trials and seed only)."""
    return list(_gate_cases(tokenizer, length, trials, seed))


# A check asks the trials (niah_accuracy) and writes them (niah_cases.jsonl): built once.
@lru_cache(maxsize=4)
def _gate_cases(tokenizer, length: int, trials: int, seed: int) -> tuple[NeedleCase, ...]:
    if trials < 1:
        raise ConfigError(f"NIAH gate: trials is {trials}; ask at least one (niah_trials)")
    problem = gate_unfit(tokenizer, length)
    if problem:
        raise ConfigError(problem)
    counter = gate_counter(tokenizer)
    samples = generate_samples(GATE_TASK, length, trials, counter, seed, Haystacks(counter), stream=GATE_STREAM)
    return tuple(NeedleCase(s.input, " " + s.outputs[0], s.query or "", s.outputs[0], s.needles[0], s.depth or 0,
                            s.length) for s in samples)


def write_cases(path: Path, cases: list[NeedleCase], stage: str, step: int, seed: int) -> None:
    """Append one check's ``cases`` to ``path`` (JSONL), each row with the training stage,
    the global step and the seed they were drawn with."""
    with Path(path).open("a", encoding="utf-8") as handle:
        for index, case in enumerate(cases):
            row = {"stage": stage, "step": step, "seed": seed, "trial": index, **case.to_row()}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


@torch.no_grad()
def niah_accuracy(model, tokenizer, length: int, trials: int, seed: int, device: str = "cpu") -> float:
    """Share of the ``gate_cases`` whose answer greedy decoding reproduces. ``tokenizer``:
    herd's ``lib.llama`` Tokenizer (``encode(text, bos=...)``), as the trainers hold it."""
    was_training = model.training
    model.eval()
    passed = 0
    cases = gate_cases(tokenizer, length, trials, seed)
    for case in cases:
        prompt = tokenizer.encode(case.prompt, bos=True)
        answer = tokenizer.encode(case.answer)
        if len(prompt) + len(answer) > length:
            raise ConfigError(f"NIAH gate: a trial takes {len(prompt) + len(answer)} tokens with the answer "
                              f"{case.answer!r} ({len(answer)} tokens), over the step's {length}; the tokenizer "
                              f"splits numbers finer than the {ANSWER_TOKENS}-token answer budget allows")
        ids = torch.tensor([prompt + answer], device=device)
        logits = model(ids[:, :-1])[0, len(prompt) - 1:]
        passed += bool((logits.argmax(-1) == ids[0, len(prompt):]).all())
    model.train(was_training)
    return passed / len(cases)
