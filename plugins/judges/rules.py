"""Rule-based cleaning of SFT rows (docs/recipe.md section 5, "Data quality"): responses that
overuse emojis or exclamation marks, open with an apology or "As an AI", or contain
boilerplate phrases are rejected. Every pattern list is configurable."""

from __future__ import annotations

import re

from herd.core.errors import ConfigError
from herd.core.protocols import Score
from herd.core.records import SFTRow
from herd.core.services import Services
from herd.plugins.judges.config import RuleCleaningConfig
from herd.lib.chat.rows import last_response

# Emoji blocks (pictographs, emoticons, transport, supplemental symbols, dingbats, flags).
_EMOJI = re.compile(
    "[\U0001F1E6-\U0001F1FF\U0001F300-\U0001F5FF\U0001F600-\U0001F64F\U0001F680-\U0001F6FF"
    "\U0001F700-\U0001F77F\U0001F900-\U0001F9FF\U0001FA70-\U0001FAFF\u2600-\u26FF\u2700-\u27BF]"
)
_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)


def _compile(patterns: list[str], key: str) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"[judges.rule_cleaning] {key}: invalid regex {pattern!r}: {exc}") from None
    return compiled


class RuleCleaning:
    """Signals: ``pass`` (0 with the rules that fired as reason), ``emojis``, ``exclamations``."""

    def __init__(self, cfg: RuleCleaningConfig | None = None, services: Services | None = None, name: str = "rule_cleaning"):
        self.cfg = cfg or RuleCleaningConfig()
        self.name = name
        self._openers = _compile(self.cfg.openers, "openers")
        self._phrases = _compile(self.cfg.phrases, "phrases")

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        return [self._score_one(row) for row in rows]

    def _score_one(self, row: SFTRow) -> list[Score]:
        response = last_response(row)
        prose = _CODE_BLOCK.sub(" ", response)  # '!' in code (`!=`, shell) is not style
        emojis = len(_EMOJI.findall(prose))
        exclamations = prose.count("!") - prose.count("!=")
        failures = []
        if len(response.strip()) < self.cfg.min_response_chars:
            failures.append("empty_response")
        if emojis > self.cfg.max_emojis:
            failures.append(f"emoji_overuse ({emojis} > {self.cfg.max_emojis})")
        if exclamations > self.cfg.max_exclamations:
            failures.append(f"exclamation_overuse ({exclamations} > {self.cfg.max_exclamations})")
        opening = response.lstrip()[:120]
        for pattern in self._openers:
            if pattern.match(opening):
                failures.append(f"apologetic_opener ({pattern.pattern!r})")
                break
        for pattern in self._phrases:
            if pattern.search(response):
                failures.append(f"phrase ({pattern.pattern!r})")
        reason = "; ".join(failures)
        return [
            Score(self.name, "pass", 0.0 if failures else 1.0, reason),
            Score(self.name, "emojis", float(emojis)),
            Score(self.name, "exclamations", float(max(exclamations, 0))),
        ]
