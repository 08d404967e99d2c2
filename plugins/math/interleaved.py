"""Worked solutions that interleave text and Python (docs/recipe.md section 6, "interleaved
code and text reasoning"), in the form the ``math_python`` environment gives a rollout:

1. an assistant turn that writes a ```` ```python ```` program: one variable per step of
   the templated solution (exact: fractions with ``fractions.Fraction``), each step
   computed from the variables before it, and one ``print`` of them all;
2. the ``ipython`` turn with what the program printed in the sandbox (the text the
   environment answers with, ``python_exec.answer_message``);
3. an assistant turn that reads the results from the output: the worked solution's lines
   with each computation replaced by the value printed for it, ending ``#### answer``.

A solution is kept only when the program really ran in the sandbox, printed exactly the
steps' values, and the last turn passes the answer verifier and the step checker.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from typing import Callable, ContextManager

from herd.core.errors import ConfigError
from herd.core.protocols import Sandbox
from herd.core.records import ChatMessage, SFTRow
from herd.plugins.math.feedback import Dropped, review
from herd.plugins.math.problems import Problem, computations
from herd.plugins.math.python_exec import RunOutcome, answer_message, run_programs
from herd.plugins.math.verifier import AnswerVerifier

CAPABILITY = "math"
SOURCE = "math_code"
# A step program prints a few short numbers; more than this is a fault, not an answer.
MAX_OUTPUT_CHARS = 1000

LEAD = "With Python:"
# Rows must fit the default profile's 256 tokens ([posttrain] max_len) in the small
# models' tokenizers: one-letter variables, one print, and a last turn without the
# expressions the program already computed.
_NAMES = "abcdefghijklmnopqrstuvwxyz"
_NUMERATOR = re.compile(r"(?<![\w.])(\w+)(?=\s*/)")
_ANNOTATION = re.compile(r"<<[^>]*>>")


@dataclass(frozen=True)
class CodeSolution:
    """``problem``'s ``code`` and the value each step must print (``values``, as the
    solution shows them); ``steps``: the template's (expression, value) per step."""

    problem: Problem
    code: str
    values: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]

    def call_turn(self) -> ChatMessage:
        return ChatMessage("assistant", f"{LEAD}\n```python\n{self.code}\n```")

    def final_turn(self, printed: list[str]) -> ChatMessage:
        """The worked solution's lines with each computation replaced by the value the
        program printed for it (``printed``, one per step, in order)."""
        lines = [_ANNOTATION.sub("", line) for line in self.problem.solution]
        for i, ((expr, shown), value) in enumerate(zip(self.steps, printed)):
            lines[i] = lines[i].replace(f"{expr} = {shown}", value, 1)
        return ChatMessage("assistant", "\n".join(lines))


def code_solution(problem: Problem) -> CodeSolution:
    """The program computing ``problem``'s steps: step N refers to an earlier step's value
    by its variable where the template wrote that value as an operand, and every
    numerator is a ``Fraction``, so 7/12 stays 7/12 and 48 / 24 prints 2, not 2.0."""
    steps = computations(problem)
    names: list[tuple[str, str]] = []  # (value shown as an operand, variable)
    lines = []
    for i, (expr, shown) in enumerate(steps):
        for value, name in reversed(names):
            operand = f"({value})" if "/" in value else value
            expr = _replace_operand(expr, operand, name)
        expr = _NUMERATOR.sub(lambda m: f"F({m.group(1)})", expr)
        lines.append(f"{_NAMES[i]} = {expr}")
        names.append((shown, _NAMES[i]))
    lines.append(f"print({', '.join(_NAMES[:len(steps)])})")
    if any("F(" in line for line in lines):
        lines.insert(0, "from fractions import Fraction as F")
    return CodeSolution(problem, "\n".join(lines), tuple(value for _, value in steps), steps)


def _replace_operand(expr: str, operand: str, name: str) -> str:
    """``expr`` with its first whole-token ``operand`` replaced by ``name``; any token of
    that value may be replaced, since it is the same number."""
    pattern = re.escape(operand) if operand.startswith("(") else rf"(?<![\w./]){re.escape(operand)}(?![\w./])"
    return re.sub(pattern, name, expr, count=1)


def chosen(problems: list[Problem], share: float, seed: int) -> list[Problem]:
    """The ``share`` of ``problems`` that get an interleaved solution (seeded)."""
    rng = random.Random(f"herd.math.code:{seed}")
    return [p for p in problems if rng.random() < share]


def interleaved_rows(problems: list[Problem], open_sandbox: Callable[[], ContextManager[Sandbox]],
                     timeout_s: float, verifier: AnswerVerifier,
                     log: logging.Logger | None = None) -> tuple[list[SFTRow], list[Dropped]]:
    """An interleaved solution per problem whose program ran in the sandbox and printed
    the steps' values, and whose last turn passes the checkers; else why not."""
    if not problems:
        return [], []
    solutions = [code_solution(p) for p in problems]
    try:
        with open_sandbox() as sandbox:
            runs = run_programs(sandbox, [s.code for s in solutions], timeout_s, MAX_OUTPUT_CHARS)
    except ConfigError as err:
        # no sandbox on this machine: the share of code rows is lost, said per row
        if log is not None:
            log.warning("math: %d solutions with Python dropped (no_sandbox): %s", len(problems), err)
        return [], [Dropped(f"{p.id}-code", "no_sandbox", str(err)) for p in problems]
    rows: list[SFTRow] = []
    dropped: list[Dropped] = []
    for solution, run in zip(solutions, runs):
        made = _row(solution, run, verifier)
        (rows if isinstance(made, SFTRow) else dropped).append(made)
    return rows, dropped


def _row(solution: CodeSolution, run: RunOutcome, verifier: AnswerVerifier) -> SFTRow | Dropped:
    problem = solution.problem
    row_id = f"{problem.id}-code"
    if not run.ok:
        return Dropped(row_id, "code_failed", run.text)
    printed = run.stdout.split()
    if tuple(printed) != solution.values:
        return Dropped(row_id, "code_output_mismatch", f"printed {printed}, the steps compute {list(solution.values)}")
    final = solution.final_turn(printed)
    feedback = review(tuple(final.content.splitlines()), problem.answer, verifier)
    if not feedback.passed or not verifier.compare(problem.answer, printed[-1]).correct:
        reason = "wrong_answer" if feedback.first_wrong_step is None else "wrong_step"
        detail = "; ".join(feedback.findings) or f"the program's last value {printed[-1]} is not {problem.answer}"
        return Dropped(row_id, reason, detail)
    messages = [ChatMessage("user", problem.prompt), solution.call_turn(), answer_message(run), final]
    return SFTRow(row_id, messages, capability=CAPABILITY, category=problem.family, source=SOURCE,
                  metadata={"reference": problem.answer})
