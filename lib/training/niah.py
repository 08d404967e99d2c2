"""herd's needle-in-a-haystack test (docs/recipe.md 4.2: a long-context stage ends only when the
needle is found at that length).

A haystack of filler sentences hides one needle sentence, "The special magic number is
N.", at a random depth; the document ends with the question and its answer. The model
passes a trial when greedy decoding (teacher-forced, one forward pass) reproduces every
token of the answer.

The gate's haystacks are never training data: the ``pretrain`` stage's long-context data is
the mix's own documents only, so passing the gate measures retrieval, not recall of the
test (``gate_cases`` lists what the gate asks, for checks of exactly that).
``niah_documents`` writes the format as text for tests of the gate's mechanics; a
pretraining data path must not use it."""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

FILLER = (
    "The grass is green and the sky is blue.",
    "The sun rises in the east and sets in the west.",
    "Rivers flow down from the hills to the sea.",
    "A herd of llamas walks slowly across the high plain.",
    "Bread is baked early in the morning in the old town.",
    "The library keeps its oldest books in a quiet room.",
    "Trains leave the station every hour on the hour.",
    "Snow covers the mountain tops for most of the year.",
)
QUESTION = " What is the special magic number? The special magic number is"


@dataclass
class NeedleCase:
    prompt: str
    answer: str


def make_case(rng: random.Random, tokens: int, tokenizer) -> NeedleCase:
    """A haystack of about ``tokens`` tokens (question included) with the needle at a random depth."""
    number = rng.randint(100, 999)
    needle = f" The special magic number is {number}."
    budget = tokens - len(tokenizer.encode(needle + QUESTION)) - 4
    sentences, used = [], 0
    while True:
        s = " " + rng.choice(FILLER)
        n = len(tokenizer.encode(s))
        if used + n > budget:
            break
        sentences.append(s)
        used += n
    sentences.insert(rng.randint(0, len(sentences)), needle)
    return NeedleCase("".join(sentences).lstrip() + QUESTION, f" {number}.")


def niah_documents(count: int, min_tokens: int, max_tokens: int, tokenizer, seed: int) -> list[str]:
    """Documents in the test's format, of ``min_tokens``..``max_tokens`` tokens (tests of the
    gate's mechanics only: training on them trains on the gate)."""
    rng = random.Random(seed)
    docs = []
    for _ in range(count):
        case = make_case(rng, rng.randint(min_tokens, max_tokens), tokenizer)
        docs.append(case.prompt + case.answer)
    return docs


def gate_cases(tokenizer, length: int, trials: int, seed: int) -> list[NeedleCase]:
    """The haystacks ``niah_accuracy`` asks at ``length`` tokens, in order."""
    rng = random.Random(10_000_019 + seed)
    return [make_case(rng, length - 4, tokenizer) for _ in range(trials)]


@torch.no_grad()
def niah_accuracy(model, tokenizer, length: int, trials: int, seed: int, device: str = "cpu") -> float:
    """Share of ``trials`` haystacks of ``length`` tokens (``gate_cases``) whose answer greedy
    decoding finds."""
    was_training = model.training
    model.eval()
    passed = 0
    for case in gate_cases(tokenizer, length, trials, seed):
        prompt = tokenizer.encode(case.prompt, bos=True)
        answer = tokenizer.encode(case.answer)
        ids = torch.tensor([prompt + answer], device=device)
        logits = model(ids[:, :-1])[0, len(prompt) - 1 :]
        passed += bool((logits.argmax(-1) == ids[0, len(prompt) :]).all())
    model.train(was_training)
    return passed / trials
