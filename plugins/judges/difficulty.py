"""Difficulty judge (docs/recipe.md section 5): InsTag-style intent tags counted (more distinct
intents = a more complex instruction) by a rule set, and textstat readability of the prompt,
give every row a level 1-3 without an LLM; when a capable generator is configured
(``use_llm``) an LLM judge also tags intents and rates difficulty 1-3, and its rating wins."""

from __future__ import annotations

import re

from herd.core.errors import ConfigError
from herd.core.protocols import SamplingParams, Score
from herd.core.records import SFTRow
from herd.plugins.judges.config import DifficultyConfig
from herd.plugins.judges.instag import IntentTagger
from herd.plugins.judges.parsing import find_json, parse_score
from herd.core.services import Services, need_generator
from herd.lib.chat.rows import user_text

INSTAG_PROMPT = """List the user's intentions in the request below as short fine-grained tags
(InsTag style, e.g. "python programming", "error handling", "formal tone").
Answer with a JSON list of strings and nothing else.

Request:
{prompt}
"""

RATING_PROMPT = """How difficult is the request below for a capable assistant?
Answer 1 (easy), 2 (medium) or 3 (hard) as JSON, e.g. {{"score": 2}}.

Request:
{prompt}
"""


def parse_tags(text: str) -> tuple[list[str] | None, str]:
    """Tags from a JSON list (or an object with "tags"), else from bullet lines; None with a
    reason when the answer holds no tags."""
    if not text or not text.strip():
        return None, "empty judge answer"
    obj = find_json(text)
    if isinstance(obj, dict):
        obj = obj.get("tags")
    if isinstance(obj, list):
        tags = [str(t.get("tag", "")) if isinstance(t, dict) else str(t) for t in obj]
        tags = [t.strip() for t in tags if t and t.strip()]
        return (sorted(set(tags)), "") if tags else (None, "the judge returned an empty tag list")
    bullets = [m.group(1).strip() for m in re.finditer(r"^\s*(?:[-*•]|\d+[.)])\s+(.+)$", text, re.MULTILINE)]
    if bullets:
        return sorted(set(bullets)), ""
    return None, "no JSON list or bullet list of tags in the judge answer"


class DifficultyJudge:
    """Signals: ``tags`` (distinct rule tags; the reason lists them), ``level`` (1-3 from
    tags and readability), ``automated_readability_index``, ``coleman_liau_index``,
    ``prompt_words``; with ``use_llm`` also ``intent_tags`` (the LLM's InsTag count) and
    ``rating`` (its 1-3). Sets ``row.difficulty``: the LLM's rating when parsed, else the level.

    The readability measures are textstat's character-based ones: its syllable-based
    measures (Flesch) fetch NLTK's cmudict at run time, which herd never does."""

    def __init__(self, cfg: DifficultyConfig | None = None, services: Services | None = None, name: str = "difficulty"):
        self.cfg = cfg or DifficultyConfig()
        self.name = name
        cuts = self.cfg.level_cuts
        if len(cuts) != 2 or cuts[0] > cuts[1]:
            raise ConfigError(f"[judges.{name}] level_cuts must be two increasing points (medium, hard), got {cuts}")
        self.tagger = IntentTagger(self.cfg.tag_rules, f"[judges.{name}] tag_rules")
        self.generator = (
            need_generator(services, f"judge '{name}'", "use_llm is true (InsTag tags, difficulty rating)")
            if self.cfg.use_llm
            else None
        )

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        prompts = [user_text(row) for row in rows]
        scores = [self._by_rules(prompt) for prompt in prompts]
        levels = [next(s.value for s in out if s.signal == "level") for out in scores]
        ratings: list[float | None] = [None] * len(rows)
        if self.generator is not None:
            for i, extra in enumerate(self._by_llm(prompts)):
                scores[i].extend(extra)
                ratings[i] = next(s.value for s in extra if s.signal == "rating")
        for row, level, rating in zip(rows, levels, ratings):
            row.difficulty = int(round(rating if rating is not None else level))
        return scores

    def level(self, tags: int, readability: float | None, words: int) -> int:
        points = tags + int(readability is not None and readability >= self.cfg.readability_grade)
        points += int(words >= self.cfg.long_prompt_words)
        medium, hard = self.cfg.level_cuts
        return 3 if points >= hard else 2 if points >= medium else 1

    def _by_rules(self, prompt: str) -> list[Score]:
        tags = self.tagger.tags(prompt)
        out = [Score(self.name, "tags", float(len(tags)), "tags: " + ", ".join(tags) if tags else "no tag rule fired")]
        readability = self._readability(prompt) if self.cfg.readability else []
        ari = next((s.value for s in readability if s.signal == "automated_readability_index"), None)
        words = len(prompt.split())
        out.append(Score(self.name, "level", float(self.level(len(tags), ari, words))))
        return out + readability

    def _by_llm(self, prompts: list[str]) -> list[list[Score]]:
        params = SamplingParams(temperature=0.0, max_tokens=self.cfg.max_tokens)
        tag_answers = self.generator.generate([INSTAG_PROMPT.format(prompt=p) for p in prompts], params)
        rating_answers = self.generator.generate([RATING_PROMPT.format(prompt=p) for p in prompts], params)
        out = []
        for tags_answer, rating_answer in zip(tag_answers, rating_answers):
            tag_text = tags_answer[0] if tags_answer else ""
            tags, reason = parse_tags(tag_text)
            rating_text = rating_answer[0] if rating_answer else ""
            parsed = parse_score(rating_text, 1, 3, key="difficulty")
            out.append([
                Score(self.name, "intent_tags", float(len(tags)) if tags else None,
                      reason or "tags: " + ", ".join(tags), raw=tag_text),
                Score(self.name, "rating", parsed.value, parsed.reason, raw=rating_text),
            ])
        return out

    def _readability(self, prompt: str) -> list[Score]:
        import textstat

        words = textstat.lexicon_count(prompt)
        if words == 0:
            reason = "prompt has no words"
            return [
                Score(self.name, "automated_readability_index", None, reason),
                Score(self.name, "coleman_liau_index", None, reason),
                Score(self.name, "prompt_words", 0.0),
            ]
        return [
            Score(self.name, "automated_readability_index", float(textstat.automated_readability_index(prompt))),
            Score(self.name, "coleman_liau_index", float(textstat.coleman_liau_index(prompt))),
            Score(self.name, "prompt_words", float(words)),
        ]
