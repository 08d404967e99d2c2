"""Config dataclasses of the judges plugin: one ``[judges.<name>]`` section per judge
(``[sft_funnel]``, the funnel that runs them, is ``herd.lib.sft_funnel.config``). Defaults are the ``default`` profile; numbers
follow docs/recipe.md section 5 ("Data quality")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from herd.core.records import REWARD_SCORE

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
class TopicConfig:
    """Topic classification: ``method`` "llm" asks the generator (a judge prompt);
    "classifier" uses a small n-gram classifier herd trained from judge labels."""

    method: str = "llm"
    classifier_path: str = ""  # .npz written by herd.plugins.judges.topic.train_topic_classifier
    coarse: list[str] = field(default_factory=lambda: list(COARSE_TOPICS))
    fine: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in FINE_TOPICS.items()})
    max_tokens: int = 64


@dataclass
class QualityConfig:
    """Quality: ``method`` "rm" keeps the reward model's top fraction (the recipe's top
    quartile), "llm" rates the recipe's rubric on ``scale_min``..``scale_max``, "both" does both."""

    method: str = "llm"
    rm_score: str = REWARD_SCORE  # the row score the reward model wrote (rejection sampling)
    top_fraction: float = 0.25
    scale_min: int = 1
    scale_max: int = 5
    criteria: list[str] = field(default_factory=lambda: ["accuracy", "instruction_following", "tone"])
    code_criteria: list[str] = field(default_factory=lambda: ["bug_identification", "user_intent", "accuracy"])
    max_tokens: int = 256


@dataclass
class DifficultyConfig:
    """Difficulty: InsTag-style intent tags counted, a 3-level rating (both by the
    generator when ``use_llm``) and textstat readability of the prompt."""

    use_llm: bool = True
    readability: bool = True
    max_tokens: int = 128
