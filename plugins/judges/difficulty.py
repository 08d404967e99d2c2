"""Difficulty judge (docs/recipe.md section 5): InsTag-style intent tags counted (more distinct
intents = a more complex instruction), a 3-level difficulty rating by an LLM judge, and
textstat readability of the prompt as cheap signals."""

from __future__ import annotations

import re

from herd.core.protocols import SamplingParams, Score
from herd.core.records import SFTRow
from herd.plugins.judges.config import DifficultyConfig
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
    """Signals: ``intent_tags`` (number of distinct intent tags), ``rating`` (1-3), and
    ``automated_readability_index``, ``coleman_liau_index``, ``prompt_words``.

    The readability measures are textstat's character-based ones: its syllable-based
    measures (Flesch) fetch NLTK's cmudict at run time, which herd never does."""

    def __init__(self, cfg: DifficultyConfig | None = None, services: Services | None = None, name: str = "difficulty"):
        self.cfg = cfg or DifficultyConfig()
        self.name = name
        self.generator = (
            need_generator(services, f"judge '{name}'", "use_llm is true (InsTag tags, difficulty rating)")
            if self.cfg.use_llm
            else None
        )

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        prompts = [user_text(row) for row in rows]
        scores: list[list[Score]] = [[] for _ in rows]
        if self.cfg.readability:
            for out, prompt in zip(scores, prompts):
                out.extend(self._readability(prompt))
        if self.generator is not None:
            params = SamplingParams(temperature=0.0, max_tokens=self.cfg.max_tokens)
            tag_answers = self.generator.generate([INSTAG_PROMPT.format(prompt=p) for p in prompts], params)
            rating_answers = self.generator.generate([RATING_PROMPT.format(prompt=p) for p in prompts], params)
            for out, tags_answer, rating_answer in zip(scores, tag_answers, rating_answers):
                tag_text = tags_answer[0] if tags_answer else ""
                tags, reason = parse_tags(tag_text)
                out.append(Score(self.name, "intent_tags", float(len(tags)) if tags else None,
                                 reason or "tags: " + ", ".join(tags), raw=tag_text))
                rating_text = rating_answer[0] if rating_answer else ""
                parsed = parse_score(rating_text, 1, 3, key="difficulty")
                out.append(Score(self.name, "rating", parsed.value, parsed.reason, raw=rating_text))
        return scores

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
