"""``[scaling]``: the IsoFLOP sweep. Defaults are a CPU sweep of a few minutes; ``full`` is
the report's range (6e18 to 1e22 FLOPs, 40M to 16B parameters, docs/recipe.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class ScalingConfig:
    trainer: str = "torch"
    budgets: list[float] = field(default_factory=lambda: [5e9, 1e10, 2e10])
    shapes: list[str] = field(default_factory=lambda: ["16x1", "32x1", "48x2", "64x2"])
    seq_len: int = 32
    batch_tokens: int = 512
    lr: float = 3e-3
    vocab_size: int = 320
    min_tokens: int = 2048  # a run shorter than this is not planned
    target_budget: float = 1e12
    val_fraction: float = 0.05

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"budgets": [3e9, 6e9], "shapes": ["16x1", "32x1", "48x2"], "min_tokens": 1024, "batch_tokens": 256},
        "full": {
            "budgets": [6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21, 6e21, 1e22],
            "shapes": ["512x8", "768x12", "1024x16", "1536x20", "2048x24", "3072x28", "4096x32", "5120x40"],
            "seq_len": 4096, "batch_tokens": 4 * 2**20, "lr": 3e-4, "vocab_size": 128256,
            "min_tokens": 100_000_000, "target_budget": 3.8e25, "val_fraction": 0.001,
        },
    }
