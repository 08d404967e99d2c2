"""Which generator samples for a round: the policy (the configured backend pointed at the
round's model) or a capability's expert."""

from __future__ import annotations

from pathlib import Path

from herd.core.pipeline import StageContext
from herd.core.protocols import Generator
from herd.core.services import generator_for_model

FINAL_MODEL = "final_model"


def policy_generator(ctx: StageContext, name: str, model_dir: Path) -> Generator:
    """The generator ``name`` pointed at ``model_dir`` (backends with a ``model_path``)."""
    return generator_for_model(ctx, name, model_dir)


def expert_generator(ctx: StageContext, name: str) -> Generator:
    """An expert generator registered with ``model_stage="<stage>"`` (the code expert) is
    pointed at that stage's ``final_model/`` when this run has it (posttrain reads every
    stage that provides ``expert_model``); others use their own config."""
    stage = ctx.registry.get("generators", name).options.get("model_stage")
    if stage and stage in ctx.inputs:
        return policy_generator(ctx, name, ctx.inputs[stage] / FINAL_MODEL)
    return ctx.build("generators", name)
