"""Which generator samples a capability's prompts: its expert, pointed at the model of the
stage that made it when the run has one (the policy itself is ``generator_for_model``)."""

from __future__ import annotations

from herd.core.pipeline import StageContext
from herd.core.protocols import Generator
from herd.core.services import FINAL_MODEL, generator_for_model


def expert_generator(ctx: StageContext, name: str) -> Generator:
    """An expert generator registered with ``model_stage="<stage>"`` (the code expert) is
    pointed at that stage's ``final_model/`` when this run has it (posttrain reads every
    stage that provides ``expert_model``); others use their own config."""
    stage = ctx.registry.get("generators", name).options.get("model_stage")
    if stage and stage in ctx.inputs:
        return generator_for_model(ctx, name, ctx.inputs[stage] / FINAL_MODEL)
    return ctx.build("generators", name)
