"""herd's needle-in-a-haystack test (docs/recipe.md 4.2: a long-context stage ends only when the
needle is found at that length).

A haystack of filler sentences hides one needle sentence, "The special magic number is
N.", at a random depth; the document ends with the question and its answer. The model
passes a trial when greedy decoding (teacher-forced, one forward pass) reproduces every
token of the answer. ``niah_documents`` writes the same format as training text, which
makes the task learnable for the tiny CPU models (the report's models learn it from
their long documents)."""

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
    """Training documents in the test's format, of ``min_tokens``..``max_tokens`` tokens."""
    rng = random.Random(seed)
    docs = []
    for _ in range(count):
        case = make_case(rng, rng.randint(min_tokens, max_tokens), tokenizer)
        docs.append(case.prompt + case.answer)
    return docs


@torch.no_grad()
def niah_accuracy(model, tokenizer, length: int, trials: int, seed: int, device: str = "cpu") -> float:
    """Share of ``trials`` haystacks of ``length`` tokens whose answer greedy decoding finds.
    Evaluation seeds differ from training ones (``seed`` is offset), so it never sees a
    training haystack."""
    rng = random.Random(10_000_019 + seed)
    was_training = model.training
    model.eval()
    passed = 0
    for _ in range(trials):
        case = make_case(rng, length - 4, tokenizer)
        prompt = tokenizer.encode(case.prompt, bos=True)
        answer = tokenizer.encode(case.answer)
        ids = torch.tensor([prompt + answer], device=device)
        logits = model(ids[:, :-1])[0, len(prompt) - 1 :]
        passed += bool((logits.argmax(-1) == ids[0, len(prompt) :]).all())
    model.train(was_training)
    return passed / trials
