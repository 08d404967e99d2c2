"""The code expert as a generator: how the ``code_expert`` generator loads the expert's
model, and which generator code rejection sampling uses (the expert when the run has it,
else the policy in the typed ``Services``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from herd.core.errors import ConfigError
from herd.core.protocols import Generator
from herd.core.services import FINAL_MODEL, Services

EXPERT_STAGE = "code_expert"
EXPERT_MODEL = FINAL_MODEL


def load_expert(cfg) -> Generator:
    """The ``code_expert`` generator: herd's KV-cache generator on the expert's model."""
    from herd.lib.llama.config import LocalGeneratorConfig
    from herd.lib.llama.generate import LocalGenerator

    if cfg is None or not cfg.model_path:
        raise ConfigError("[generators.code_expert] model_path is empty. Post-training points it at this run's "
                          f"{EXPERT_STAGE}/{EXPERT_MODEL} when the run has the {EXPERT_STAGE} stage; otherwise set it "
                          "to a code expert's model directory")
    if not Path(cfg.model_path).is_dir():
        raise ConfigError(f"[generators.code_expert] model_path {cfg.model_path}: not a directory")
    return LocalGenerator.from_config(LocalGeneratorConfig(cfg.model_path, cfg.device, cfg.dtype))


def sampling_generator(services: Services, name: str) -> tuple[Generator, str]:
    """The generator code sampling uses, and a label saying which one it is.

    ``"auto"``: the code expert when the run has the ``code_expert`` stage's final model
    (``services.model_dir``), else ``services.generator`` (the policy). Any other name:
    that registered generator, pointed at its ``model_stage``'s final model when it has
    that option, no ``model_path`` of its own, and the run has the stage."""
    if name == "auto" and services.model_dir(EXPERT_STAGE) is None:
        return services.require_generator("synthesizer 'code_rejection_sampling'",
                                          "generator = \"auto\" samples the policy when the run has no code expert"), "policy"
    name = EXPERT_STAGE if name == "auto" else name
    component = services.registry.get("generators", name)
    cfg = services.config.component("generators", name)
    if cfg is None and component.config is not None:
        cfg = component.config()
    stage = component.options.get("model_stage")
    model = services.model_dir(stage) if stage else None
    if model is not None and cfg is not None and hasattr(cfg, "model_path") and not cfg.model_path:
        cfg = dataclasses.replace(cfg, model_path=str(model))
    return component.factory(cfg), name
