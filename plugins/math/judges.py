"""The math judges, both of kind ``verifier`` (a non-None signal is a verdict that
post-training's rejection sampling applies, positive passes):

- ``math_answer``: ``correct`` 1/0 when the last assistant message's final answer
  equals ``metadata[reference_key]``; ``None`` for rows without a reference.
- ``math_steps``: ``pass`` 0 when a line of the last assistant message states a wrong
  arithmetic result, 1 when it states some and all are right, ``None`` when it states
  none it can read or the row is not a math row. It needs no reference, but it passes
  or fails a sample, which is what a verifier does; a "rule" judge cleans SFT data by
  style, not by correctness.
"""

from __future__ import annotations

from herd.core.protocols import Score
from herd.core.records import SFTRow
from herd.plugins.math.config import MathAnswerConfig, MathStepsConfig


def _response(row: SFTRow) -> str | None:
    return next((m.content for m in reversed(row.messages) if m.role == "assistant"), None)


class MathAnswer:
    def __init__(self, cfg: MathAnswerConfig | None = None, services=None, name: str = "math_answer"):
        from herd.plugins.math.verifier import AnswerVerifier

        self.cfg = cfg or MathAnswerConfig()
        self.name = name
        self.verifier = AnswerVerifier(self.cfg.timeout_s)

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        return [[self._score(row)] for row in rows]

    def _score(self, row: SFTRow) -> Score:
        reference = row.metadata.get(self.cfg.reference_key)
        if reference is None:
            return Score(self.name, "correct", None, reason=f"no reference answer (metadata.{self.cfg.reference_key})")
        response = _response(row)
        if response is None:
            return Score(self.name, "correct", 0.0, reason="no assistant message")
        verdict = self.verifier.verify(str(reference), response)
        reason = verdict.error or ("" if verdict.correct else f"answer {verdict.extracted!r} is not {reference!r}")
        return Score(self.name, "correct", 1.0 if verdict.correct else 0.0, reason=reason, raw=verdict.extracted or "")


class MathSteps:
    def __init__(self, cfg: MathStepsConfig | None = None, services=None, name: str = "math_steps"):
        self.cfg = cfg or MathStepsConfig()
        self.name = name

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        return [[self._score(row)] for row in rows]

    def _score(self, row: SFTRow) -> Score:
        from herd.plugins.math.steps import check_solution

        if row.capability not in self.cfg.capabilities:
            return Score(self.name, "pass", None, reason=f"capability '{row.capability}' is not checked")
        response = _response(row)
        if response is None:
            return Score(self.name, "pass", None, reason="no assistant message")
        checked = check_solution(response)
        if checked.first_wrong_step is not None:
            step = checked.steps[checked.first_wrong_step]
            wrong = next(c for c in step.claims if not c.correct)
            return Score(self.name, "pass", 0.0, raw=step.text,
                         reason=f"line {step.index}: {wrong.expression} is {wrong.computed}, not {wrong.stated}")
        if checked.claims == 0:
            return Score(self.name, "pass", None, reason="no arithmetic claim found")
        return Score(self.name, "pass", 1.0)
