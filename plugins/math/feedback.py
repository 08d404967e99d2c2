"""What the math checkers say about a worked solution (the step checker and the answer
verifier), as the synthesizer's learning-from-mistakes rows put it, and the record of an
item the synthesizer dropped."""

from __future__ import annotations

from dataclasses import dataclass

from herd.plugins.math.steps import check_solution
from herd.plugins.math.verifier import AnswerVerifier


@dataclass(frozen=True)
class Dropped:
    id: str
    reason: str
    detail: str


@dataclass(frozen=True)
class Feedback:
    """What the checkers say about a solution: ``first_wrong_step`` (0-based line, or
    None), one line of text per finding, and whether the final answer is right."""

    first_wrong_step: int | None
    findings: tuple[str, ...]
    answer_correct: bool

    @property
    def passed(self) -> bool:
        return self.first_wrong_step is None and self.answer_correct


def review(solution: tuple[str, ...], reference: str, verifier: AnswerVerifier) -> Feedback:
    """The step checker's and the answer verifier's verdicts on one worked solution."""
    checked = check_solution(list(solution))
    findings = []
    if checked.first_wrong_step is not None:
        step = checked.steps[checked.first_wrong_step]
        wrong = next(c for c in step.claims if not c.correct)
        findings.append(f"line {step.index + 1}: {wrong.expression} is {wrong.computed}, not {wrong.stated}")
    verdict = verifier.verify(reference, "\n".join(solution))
    if not verdict.correct:
        findings.append(verdict.error or f"the final answer {verdict.extracted} is wrong")
    return Feedback(checked.first_wrong_step, tuple(findings), verdict.correct)


# Lines of a wrong solution a correction prompt quotes when no step is flagged (only the
# final answer is wrong): its end, where the answer is.
QUOTED_LINES = 3


def quoted_mistake(wrong: str, feedback: Feedback) -> str:
    """The part of a wrong solution a correction needs: up to and including the first wrong
    line (what follows it builds on the error), else its last ``QUOTED_LINES`` lines."""
    lines = [line for line in wrong.strip().splitlines() if line.strip()]
    if feedback.first_wrong_step is not None:
        return "\n".join(lines[: feedback.first_wrong_step + 1])
    return "\n".join(lines[-QUOTED_LINES:])


def correction_prompt(question: str, wrong: str, feedback: Feedback) -> str:
    """The user turn of a learning-from-mistakes row: the wrong solution sits in the prompt,
    so SFT (which trains on assistant turns) never trains on it. Kept short (the quoted
    mistake, the findings, the instruction) so that the row fits the default profile's
    256-token context with the corrected solution."""
    # The first finding is the one that matters: a wrong step's, when a step is flagged (the
    # wrong final answer follows from it).
    return f"{question}\nWrong:\n{quoted_mistake(wrong, feedback)}\nChecker: {feedback.findings[0]}.\nCorrect it."
