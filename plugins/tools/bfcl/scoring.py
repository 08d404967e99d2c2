"""Every question's verdict and the accuracy per category: what ``eval-tools`` writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herd.plugins.tools.bfcl.checker import Verdict, check_response
from herd.plugins.tools.bfcl.rows import BfclAnswer, BfclQuestion, BfclResponse


@dataclass(frozen=True)
class CategoryScore:
    checked: int
    correct: int
    malformed: int
    not_checked: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.checked if self.checked else None


@dataclass(frozen=True)
class ToolEvaluation:
    verdicts: list[Verdict]
    categories: dict[str, CategoryScore]
    responses_without_question: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": {c: s.accuracy for c, s in sorted(self.categories.items()) if s.accuracy is not None},
            "counts": {c: {"checked": s.checked, "correct": s.correct, "malformed": s.malformed,
                           "not_checked": s.not_checked} for c, s in sorted(self.categories.items())},
            "responses_without_question": self.responses_without_question,
            "results": [v.to_dict() for v in self.verdicts],
        }


def score(questions: list[BfclQuestion], answers: dict[str, BfclAnswer],
          responses: dict[str, BfclResponse]) -> ToolEvaluation:
    """One verdict per question (a question without a response is wrong, with the reason);
    responses whose id no question has are listed, not dropped silently."""
    verdicts = []
    for question in questions:
        response = responses.get(question.id)
        verdicts.append(check_response(question, answers.get(question.id), None if response is None else response.text))
    categories: dict[str, CategoryScore] = {}
    for category in dict.fromkeys(v.category for v in verdicts):
        mine = [v for v in verdicts if v.category == category]
        categories[category] = CategoryScore(
            checked=sum(v.correct is not None for v in mine), correct=sum(v.correct is True for v in mine),
            malformed=sum(v.malformed for v in mine), not_checked=sum(v.correct is None for v in mine))
    asked = {q.id for q in questions}
    return ToolEvaluation(verdicts, categories, sorted(set(responses) - asked))
