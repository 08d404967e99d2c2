"""The ``evaluate`` stage: every active evaluator on the final model.

The final model is the post-training stage's ``final_model/`` when post-training ran, and
the pretraining stage's otherwise. Evaluators come from capability plugins
(``herd_register_evaluators``); each gets its own folder for per-sample outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from herd.core.hookspecs import hookimpl


@dataclass
class EvaluateConfig:
    # Evaluators to run; empty: every registered evaluator of the active plugins.
    evaluators: list[str] = field(default_factory=list)
    # The generation backend that loads the final model for evaluators that generate.
    generator: str = "local"

    PROFILES: ClassVar[dict] = {}


@hookimpl
def herd_register_config_sections(register):
    register("evaluate", EvaluateConfig)


@hookimpl
def herd_register_stages(register):
    from herd.plugins.evaluate.stage import run_evaluate

    register(
        "evaluate",
        run_evaluate,
        description="runs every active evaluator on the final model",
        optional_reads=("pretrain", "posttrain"),
        config_sections=("evaluate", "evaluators"),
    )
