"""herd's small built-in general set: short templated instructions whose answers can be
checked exactly, so that a tiny model's progress across rounds is measurable on a laptop
and the rejection-sampling verifiers have something to verify.

The ``general_tasks`` synthesizer yields, per task instance, an SFT row with the reference
answer (the stand-in for human-written SFT data) and a preference row ranking the
reference above a plausible wrong answer (the stand-in for human preference data). The
``exact_answer`` judge (kind ``verifier``) checks any row that carries a reference
answer in ``metadata["answer"]``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from herd.core.protocols import Score
from herd.core.records import ChatMessage, PreferenceRow, SFTRow, text_response
from herd.core.services import Services

WORDS = (
    "apple", "river", "stone", "cloud", "green", "tiger", "piano", "lemon", "candle", "forest",
    "silver", "rocket", "garden", "winter", "bread", "ocean", "pencil", "mirror", "honey", "planet",
)


@dataclass(frozen=True)
class Instance:
    task: str
    prompt: str
    answer: str
    wrong: str


def _copy(rng: random.Random) -> Instance:
    word = rng.choice(WORDS)
    return Instance("copy", f"Repeat exactly: {word}", word, rng.choice([w for w in WORDS if w != word]))


def _add(rng: random.Random) -> Instance:
    a, b = rng.randrange(10), rng.randrange(10)
    return Instance("add", f"What is {a} plus {b}?", str(a + b), str(a + b + rng.choice([-2, -1, 1, 2])))


def _first_letter(rng: random.Random) -> Instance:
    word = rng.choice(WORDS)
    wrong = rng.choice([w for w in WORDS if w[0] != word[0]])[0]
    return Instance("first_letter", f"First letter of {word}?", word[0], wrong)


def _count(rng: random.Random) -> Instance:
    n = rng.randint(1, 5)
    words = " ".join(rng.choice(WORDS) for _ in range(n))
    return Instance("count_words", f"How many words: {words}", str(n), str(n % 5 + 1))


TASKS: dict[str, Callable[[random.Random], Instance]] = {
    "copy": _copy,
    "add": _add,
    "first_letter": _first_letter,
    "count_words": _count,
}


def instances(count: int, seed: int, tasks: list[str] | None = None) -> list[Instance]:
    """``count`` instances cycling through ``tasks`` (all by default)."""
    names = list(tasks or TASKS)
    rng = random.Random(seed)
    return [TASKS[names[i % len(names)]](rng) for i in range(count)]


def normalise(text: str) -> str:
    return text.strip().strip(".!").strip().lower()


def is_correct(response: str, answer: str) -> bool:
    return normalise(response) == normalise(answer)


def sft_row(inst: Instance, index: int, prefix: str) -> SFTRow:
    return SFTRow(
        id=f"{prefix}-{index}",
        messages=[ChatMessage("user", inst.prompt), ChatMessage("assistant", inst.answer)],
        capability="general",
        category=inst.task,
        source="herd.general_tasks",
        metadata={"answer": inst.answer},
    )


def preference_row(inst: Instance, index: int, prefix: str) -> PreferenceRow:
    return PreferenceRow(
        id=f"{prefix}-pref-{index}",
        prompt=[ChatMessage("user", inst.prompt)],
        responses=[text_response(inst.answer), text_response(inst.wrong)],
        margin=3,  # a right versus a wrong answer: "significantly better"
        capability="general",
        metadata={"answer": inst.answer, "category": inst.task},
    )


# ----- the synthesizer --------------------------------------------------------------------


@dataclass
class GeneralTasksConfig:
    """``[synthesizers.general_tasks]``."""

    tasks: list[str] = field(default_factory=lambda: list(TASKS))
    seed: int = 1234


class GeneralTasks:
    """Yields SFT and preference rows for ``budget`` task instances (one of each per instance)."""

    def __init__(self, cfg: GeneralTasksConfig | None, services: Services | None = None):  # needs no model
        self.cfg = cfg or GeneralTasksConfig()
        unknown = [t for t in self.cfg.tasks if t not in TASKS]
        if unknown:
            from herd.core.errors import ConfigError

            raise ConfigError(
                f"[synthesizers.general_tasks] tasks: unknown {', '.join(unknown)} (known: {', '.join(TASKS)})"
            )

    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow | PreferenceRow]:
        for i, inst in enumerate(instances(budget, self.cfg.seed, self.cfg.tasks)):
            yield sft_row(inst, i, "general")
            yield preference_row(inst, i, "general")


# ----- the verifier judge -----------------------------------------------------------------


class ExactAnswer:
    """Verifier: 1.0 when the last assistant message equals ``metadata["answer"]`` (after
    trimming spaces, final punctuation and case), 0.0 when not; ``None`` (not applicable)
    for rows without a reference answer."""

    name = "exact_answer"

    def __init__(self, cfg: None = None, services: Services | None = None):  # no settings, no model
        pass

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        out = []
        for row in rows:
            answer = row.metadata.get("answer")
            if answer is None:
                out.append([Score(self.name, "correct", None, reason="no reference answer")])
                continue
            response = next((m.content for m in reversed(row.messages) if m.role == "assistant"), "")
            out.append([Score(self.name, "correct", 1.0 if is_correct(response, str(answer)) else 0.0)])
        return out
