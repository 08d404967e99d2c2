"""Config of the long_context plugin's evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class LongContextEvalConfig:
    """``[evaluators.long_context]``: a small RULER set on the final model (docs/recipe.md section
    4, long-context pretraining: needle-in-a-haystack must stay solved)."""

    tasks: list[str] = field(default_factory=lambda: ["niah_single_1", "niah_single_2", "vt"])
    # Tokens per sample (prompt plus the task's answer budget); each is cut to the model's context.
    lengths: list[int] = field(default_factory=lambda: [2048])
    # Also at the model's context (max_position_embeddings): the length of the last
    # long-context pretraining step, whose NIAH gate asked niah_single_1 there (section 4.2):
    # post-training must keep it solved.
    at_context: bool = True
    samples: int = 10
    # Generator backend built for the model under evaluation when the caller hands none.
    generator: str = "local"
    seed: int = 42

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"lengths": [1024], "samples": 4, "tasks": ["niah_single_1", "vt"]},
        "full": {"lengths": [4096, 8192], "samples": 50},
    }
