"""The plugin's training problems (disjoint from the held-out ones) as training data, so a
small model can learn the function families ``code_pass_at_k`` evaluates."""

from __future__ import annotations

from pathlib import Path

from herd.core.records import ChatMessage, SFTRow
from herd.plugins.code.answers import CODE_TESTS, request
from herd.plugins.code.humaneval import Problem, read_problems
from herd.plugins.code.settings import TRAIN_PROBLEMS


def _problems(path: Path):
    problems = read_problems(path)
    return [p for p in sorted(problems.problems.values(), key=lambda p: p.task_id) if p.canonical_solution]


def training_texts(path: Path = TRAIN_PROBLEMS) -> list[str]:
    """``prompt + canonical_solution`` per problem: what the evaluator's raw-text prompts
    must be continued with (for pretraining or annealing mixes)."""
    return [p.prompt + p.canonical_solution for p in _problems(path)]


def code_tests(problem: Problem) -> dict[str, str]:
    """The row metadata the ``code_quality`` judge runs a later answer against."""
    return {"prompt": problem.prompt, "test": problem.test, "entry_point": problem.entry_point}


def sft_row(problem: Problem, source: str, answer: str | None = None) -> SFTRow:
    """The problem asked the way ``code_pass_at_k`` asks in chat (``answers.request``),
    answered with ``answer`` (default: the canonical body), with its tests in the metadata."""
    return SFTRow(
        id=f"{source}-{problem.task_id}",
        messages=[ChatMessage("user", request(problem.prompt)),
                  ChatMessage("assistant", problem.canonical_solution if answer is None else answer)],
        capability="code", category="function_completion", language="python", source=source,
        metadata={CODE_TESTS: code_tests(problem)},
    )


def sft_rows(path: Path = TRAIN_PROBLEMS) -> list[SFTRow]:
    """One SFT row per problem: the prompt as the user turn, the body as the answer."""
    return [sft_row(problem, path.name) for problem in _problems(path)]
