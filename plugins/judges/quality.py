"""Quality judge (docs/recipe.md section 5): the reward model's top quartile and/or an LLM judge
rating the recipe's rubric — accuracy, instruction following and tone; for code, bug
identification and user intent — on a fixed scale."""

from __future__ import annotations

import numpy as np

from herd.core.errors import ConfigError
from herd.core.protocols import SamplingParams, Score
from herd.core.records import SFTRow
from herd.plugins.judges.config import QUALITY_METHODS, QualityConfig
from herd.plugins.judges.parsing import parse_rubric
from herd.core.services import Services, need_generator
from herd.lib.chat.rows import conversation_text

RUBRIC_PROMPT = """You are grading an assistant's answer in a conversation.
Rate each criterion on a scale from {low} (poor) to {high} (excellent):
{criteria}
Answer with one JSON object and nothing else, e.g. {example}

Conversation:
{conversation}
"""

CRITERIA_TEXT = {
    "accuracy": "accuracy: is the answer factually and logically correct?",
    "instruction_following": "instruction_following: does it do exactly what the user asked?",
    "tone": "tone: is it helpful, clear and free of needless apologies or moralising?",
    "bug_identification": "bug_identification: does it find and fix the real bugs in the code?",
    "user_intent": "user_intent: does it understand what the user wants the code to do?",
}

class QualityJudge:
    """Signals: ``rm_quartile`` (1-4: the quartile of the row's reward score among the rows
    judged together, 4 = top), ``rm_top_quartile`` (1 when the score is in the top
    ``top_fraction``, the recipe's high quality), one signal per rubric criterion, and
    ``rating`` (their mean). Sets ``row.quality`` to the reward quartile."""

    def __init__(self, cfg: QualityConfig | None = None, services: Services | None = None, name: str = "quality"):
        self.cfg = cfg or QualityConfig()
        self.name = name
        if self.cfg.method not in QUALITY_METHODS:
            raise ConfigError(f"[judges.{name}] method must be one of {QUALITY_METHODS}, got {self.cfg.method!r}")
        if not 0 < self.cfg.top_fraction <= 1:
            raise ConfigError(f"[judges.{name}] top_fraction must be in (0, 1], got {self.cfg.top_fraction}")
        self.generator = None
        if self.cfg.method in ("llm", "both"):
            self.generator = need_generator(services, f"judge '{name}'", "method uses an LLM judge")

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        scores: list[list[Score]] = [[] for _ in rows]
        if self.cfg.method in ("rm", "both"):
            for row, out, extra in zip(rows, scores, self._reward_quartile(rows)):
                out.extend(extra)
                row.quality = None if extra[0].value is None else int(extra[0].value)
        if self.cfg.method in ("llm", "both"):
            for out, extra in zip(scores, self._rubric(rows)):
                out.extend(extra)
        return scores

    def _reward_quartile(self, rows: list[SFTRow]) -> list[list[Score]]:
        """(``rm_quartile``, ``rm_top_quartile``) per row. Quartile cut points are the
        25/50/75% quantiles of the scores present; a tie with a cut point goes up."""
        key = self.cfg.rm_score
        values = [row.scores.get(key) for row in rows]
        present = np.array([v for v in values if v is not None], dtype=np.float64)
        if present.size == 0:
            reason = f"no row has the reward score '{key}' (post-training's rounds score every SFT row)"
            return [[Score(self.name, "rm_quartile", None, reason), Score(self.name, "rm_top_quartile", None, reason)]
                    for _ in rows]
        quartiles = np.quantile(present, [0.25, 0.5, 0.75])
        cutoff = float(np.quantile(present, 1.0 - self.cfg.top_fraction))
        out = []
        for value in values:
            if value is None:
                reason = f"row has no reward score '{key}'"
                out.append([Score(self.name, "rm_quartile", None, reason), Score(self.name, "rm_top_quartile", None, reason)])
                continue
            quartile = 1 + int(np.searchsorted(quartiles, value, side="right"))
            keep = value >= cutoff
            reason = "" if keep else f"reward {value:.4g} below the top-{self.cfg.top_fraction:g} cutoff {cutoff:.4g}"
            out.append([Score(self.name, "rm_quartile", float(quartile), f"reward {value:.4g}"),
                        Score(self.name, "rm_top_quartile", 1.0 if keep else 0.0, reason)])
        return out

    def _criteria(self, row: SFTRow) -> list[str]:
        return self.cfg.code_criteria if row.capability == "code" else self.cfg.criteria

    def _rubric(self, rows: list[SFTRow]) -> list[list[Score]]:
        low, high = self.cfg.scale_min, self.cfg.scale_max
        prompts = []
        for row in rows:
            criteria = self._criteria(row)
            prompts.append(
                RUBRIC_PROMPT.format(
                    low=low,
                    high=high,
                    criteria="\n".join(f"- {CRITERIA_TEXT.get(c, c)}" for c in criteria),
                    example="{" + ", ".join(f'"{c}": {high}' for c in criteria) + "}",
                    conversation=conversation_text(row),
                )
            )
        answers = self.generator.generate(prompts, SamplingParams(temperature=0.0, max_tokens=self.cfg.max_tokens))
        out = []
        for row, answer in zip(rows, answers):
            text = answer[0] if answer else ""
            parsed = parse_rubric(text, self._criteria(row), low, high)
            scores = [Score(self.name, c, p.value, p.reason, raw=text) for c, p in parsed.items()]
            valid = [p.value for p in parsed.values() if p.value is not None]
            if len(valid) == len(parsed):
                scores.append(Score(self.name, "rating", float(np.mean(valid)), raw=text))
            else:
                missing = [c for c, p in parsed.items() if p.value is None]
                scores.append(Score(self.name, "rating", None, f"unparsed criteria: {', '.join(missing)}", raw=text))
            out.append(scores)
        return out
