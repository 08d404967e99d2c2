"""What the code plugin's evaluator and synthesizer need from the ``services`` object the
core hands them, with errors that say what is missing."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Iterator

from herd.core.errors import ConfigError
from herd.core.protocols import Generator, Sandbox
from herd.core.services import generator_for_model


def require_generator(services) -> Generator:
    generator = getattr(services, "generator", None)
    if generator is None or not hasattr(generator, "generate"):
        raise ConfigError("the code synthesizer needs services.generator (a protocols.Generator): "
                          "the model that writes problems, solutions and tests")
    return generator


def require_generator_for(services, model_dir: Path, backend: str = "local") -> Generator:
    """A generator for the model in ``model_dir``, from (in order) ``services.generator_for``,
    ``services.generator`` (post-training hands the round's model), or the registry's
    ``backend`` generator pointed at ``model_dir`` (the evaluate stage hands its context)."""
    factory = getattr(services, "generator_for", None)
    if factory is not None:
        return factory(model_dir)
    generator = getattr(services, "generator", None)
    if generator is not None:
        return generator
    registry, config = getattr(services, "registry", None), getattr(services, "config", None)
    if registry is None or config is None:
        raise ConfigError("the code_pass_at_k evaluator needs services.generator_for(model_dir), "
                          "services.generator, or services.registry and services.config to build the "
                          f"'{backend}' generator for {model_dir}")
    return generator_for_model(services, backend, model_dir)


@contextlib.contextmanager
def open_sandbox_for(services) -> Iterator[Sandbox]:
    """``services.sandbox`` when the caller holds one open (it stays open), otherwise a
    sandbox opened from ``services.config``'s ``[sandbox]`` section and closed after."""
    given = getattr(services, "sandbox", None)
    if given is not None:
        yield given
        return
    from herd.lib.sandbox.choose import open_sandbox
    from herd.lib.sandbox.config import SandboxConfig

    config = getattr(services, "config", None)
    cfg = config.section("sandbox") if config is not None and config.has_section("sandbox") else SandboxConfig()
    sandbox = open_sandbox(cfg, registry=getattr(services, "registry", None))
    try:
        yield sandbox
    finally:
        sandbox.close()


EXPERT_STAGE = "code_expert"
EXPERT_MODEL = "final_model"


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


def sampling_generator(services, name: str) -> tuple[Generator, str]:
    """The generator code sampling uses, and a label saying which one it is.

    ``"auto"``: the code expert when ``services.inputs`` holds the ``code_expert`` stage's
    output (post-training's services fall through to its stage context), else
    ``services.generator`` (the policy). Any other name: that registered generator, pointed
    at its ``model_stage``'s final model when it has that option, no ``model_path`` of its
    own, and the run has the stage."""
    inputs = getattr(services, "inputs", None) or {}
    if name == "auto" and EXPERT_STAGE not in inputs:
        return require_generator(services), "policy"
    name = EXPERT_STAGE if name == "auto" else name
    registry, config = getattr(services, "registry", None), getattr(services, "config", None)
    if registry is None:
        if name == EXPERT_STAGE:
            from herd.plugins.code.settings import CodeExpertGeneratorConfig

            model = Path(inputs[EXPERT_STAGE]) / EXPERT_MODEL
            return load_expert(CodeExpertGeneratorConfig(model_path=str(model))), name
        raise ConfigError(f"generator '{name}' needs services.registry to be built")
    component = registry.get("generators", name)
    cfg = config.component("generators", name) if config is not None else None
    if cfg is None and component.config is not None:
        cfg = component.config()
    stage = component.options.get("model_stage")
    if stage in inputs and cfg is not None and hasattr(cfg, "model_path") and not cfg.model_path:
        cfg = dataclasses.replace(cfg, model_path=str(Path(inputs[stage]) / EXPERT_MODEL))
    return component.factory(cfg), name
