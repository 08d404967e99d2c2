"""Config dataclasses of the judges plugin: one ``[judges.<name>]`` section per judge
(``[sft_funnel]``, the funnel that runs them, is ``herd.lib.sft_funnel.config``). Defaults are the ``default`` and ``quick``
profiles (no LLM needed); ``full`` lets the LLM judges join; numbers
follow docs/recipe.md section 5 ("Data quality")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from herd.core.config import non_negative, one_of, positive, ranged
from herd.core.records import REWARD_SCORE
from herd.plugins.judges.instag import INSTAG_RULES

QUALITY_METHODS = ("rm", "llm", "both")

COARSE_TOPICS = ["general", "code", "math_reasoning", "multilingual", "tool_use", "long_context"]

FINE_TOPICS: dict[str, list[str]] = {
    "general": ["writing", "advice", "knowledge_qa", "summarization", "brainstorming", "chitchat"],
    "code": ["python", "javascript", "systems", "sql", "debugging", "code_explanation"],
    "math_reasoning": ["arithmetic", "algebra", "geometry", "trigonometry", "calculus", "probability", "logic"],
    "multilingual": ["translation", "non_english_qa", "non_english_writing"],
    "tool_use": ["search", "python_interpreter", "math_engine", "function_calling"],
    "long_context": ["document_qa", "summarization_long", "code_repository"],
}


@dataclass
class RuleCleaningConfig:
    """Rule-based cleaning (docs/recipe.md section 5): emoji and exclamation overuse, apologetic
    or moralising openers, boilerplate phrases. Patterns are case-insensitive regexes."""

    max_emojis: int = 3
    max_exclamations: int = 3
    openers: list[str] = field(
        default_factory=lambda: [
            r"I'?m sorry",
            r"I am sorry",
            r"I apologi[sz]e",
            r"My apologies",
            r"Sorry,",
            r"As an AI",
            r"As a language model",
            r"As an? (?:large )?language model",
            r"Unfortunately,? I",
        ]
    )
    phrases: list[str] = field(
        default_factory=lambda: [
            r"as an AI language model",
            r"I (?:do not|don't) have personal (?:opinions|feelings|experiences)",
            r"I hope this helps!",
            r"It'?s important to note that",
        ]
    )
    min_response_chars: int = 1


@dataclass
class LanguageConfig:
    """Language of each SFT row: lingua (its models ship in the package) restricted to
    ``languages``, on the row's prose (code and URLs removed). A row's declared language is
    kept; a row with no prose to read (code, digits) gets ``fallback`` and a note saying so."""

    languages: list[str] = field(default_factory=lambda: ["en", "fr", "de", "es", "it", "pt", "zh", "ja", "ko", "ru"])
    fallback: str = "en"
    min_letters: int = non_negative(3)  # fewer letters of prose than this: nothing to identify
    max_chars: int = positive(2000)  # text beyond this is not read (speed)


@dataclass
class TopicConfig:
    """Topic classification. ``method``: "embedding" (nearest centroid of the packaged
    MiniLM's embeddings of labelled seed prompts, ``seeds``; no LLM), "classifier" (an n-gram
    classifier herd trained from judge labels, ``classifier_path``), "llm" (the generator
    answers a judge prompt), "both" (embedding, and the LLM joins: its label wins where it
    names a known topic)."""

    method: str = one_of("embedding", ("embedding", "classifier", "llm", "both"))
    classifier_path: str = ""  # .npz written by herd.plugins.judges.topic.train_topic_classifier
    seeds: str = ""  # "" = the seed set shipped with the plugin (data/topic_seeds.jsonl)
    model: str = ""  # embedding model dir; "" = the packaged all-MiniLM-L6-v2
    # Softmax temperature over cosine similarities to the centroids (the confidence signal).
    temperature: float = positive(0.05)
    coarse: list[str] = field(default_factory=lambda: list(COARSE_TOPICS))
    fine: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in FINE_TOPICS.items()})
    max_tokens: int = 64

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"full": {"method": "both"}}


@dataclass
class QualityConfig:
    """Quality: ``method`` "rm" labels each row with the quartile of its reward-model score
    among the rows judged together (the top quartile is high quality), "llm" rates the
    recipe's rubric on ``scale_min``..``scale_max``, "both" does both."""

    method: str = one_of("rm", QUALITY_METHODS)
    rm_score: str = REWARD_SCORE  # the row score the reward model wrote (post-training scores every SFT row)
    top_fraction: float = ranged(0.25, min=0, max=1, exclusive=True)
    scale_min: int = 1
    scale_max: int = 5
    criteria: list[str] = field(default_factory=lambda: ["accuracy", "instruction_following", "tone"])
    code_criteria: list[str] = field(default_factory=lambda: ["bug_identification", "user_intent", "accuracy"])
    max_tokens: int = 256

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"full": {"method": "both"}}


@dataclass
class DifficultyConfig:
    """Difficulty: InsTag-style intent tags of the prompt by a rule set (``tag_rules``,
    tag -> case-insensitive regex) plus textstat readability give a level 1-3 without an
    LLM; with ``use_llm`` the generator also tags intents and rates difficulty 1-3.

    Level: one point per distinct tag, one when the prompt's automated readability index is
    at least ``readability_grade``, one when it has ``long_prompt_words`` words or more;
    ``level_cuts`` = the points from which a prompt is medium and hard."""

    use_llm: bool = False
    readability: bool = True
    tag_rules: dict[str, str] = field(default_factory=lambda: dict(INSTAG_RULES))
    readability_grade: float = 10.0
    long_prompt_words: int = positive(60)
    level_cuts: list[int] = positive(default_factory=lambda: [2, 4])
    max_tokens: int = 128

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"full": {"use_llm": True}}
