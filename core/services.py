"""``Services``: what a stage hands the component factories that need more than their
config (a judge that asks a model, an evaluator that generates, a synthesizer that runs
programs).

One contract for every family, so a capability plugin's evaluator works the same inside
the post-training loop (which hands the round's policy) and in the ``evaluate`` stage
(which hands the final model). Anything else a component needs from the running stage
(``config``, ``registry``, ``log``, ``workdir``...) is read through to the stage context.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from herd.core.errors import ConfigError
from herd.core.protocols import Generator, Sandbox

if TYPE_CHECKING:
    from herd.core.pipeline import StageContext


def generator_for_model(ctx: "StageContext", backend: str, model_dir: Path) -> Generator:
    """The registered generator ``backend`` pointed at ``model_dir``: its config section
    (or defaults) with ``model_path`` replaced. Backends without a ``model_path`` setting
    (an HTTP endpoint serves one fixed model) are an error, since they cannot load it."""
    component = ctx.registry.get("generators", backend)
    cfg = ctx.config.component("generators", backend)
    if cfg is None and component.config is not None:
        cfg = component.config()
    if cfg is None or not hasattr(cfg, "model_path"):
        raise ConfigError(f"generator '{backend}' has no model_path setting, so it cannot load {model_dir}; "
                          "choose a backend that loads a model directory (e.g. 'local')")
    return component.factory(dataclasses.replace(cfg, model_path=str(model_dir)))


@dataclass
class Services:
    """``generator``: the model under test or training, as a ``protocols.Generator``
    (None when the stage has no model yet). ``sandbox``: an open sandbox the caller
    manages, or None (components open their own from ``[sandbox]``)."""

    ctx: "StageContext"
    generator: Generator | None = None
    sandbox: Sandbox | None = None
    backend: str = "local"

    def generator_for(self, model_dir: Path) -> Generator:
        """A generator for another model directory (an evaluator given a model path)."""
        return generator_for_model(self.ctx, self.backend, Path(model_dir))

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the dataclass does not define: the stage context's.
        if name == "ctx":
            raise AttributeError(name)
        return getattr(self.ctx, name)


# ----- what a component finds in the services it was handed --------------------------


def find_generator(services: Any) -> Generator | None:
    if services is None:
        return None
    if isinstance(services, Mapping):
        found = services.get("generator")
    elif hasattr(services, "generator"):
        found = services.generator
    else:
        found = services
    return found if isinstance(found, Generator) else None


def require_generator(services: Any, who: str, why: str) -> Generator:
    """The generator, or a ConfigError naming the component that needs one and why."""
    generator = find_generator(services)
    if generator is None:
        raise ConfigError(
            f"{who} needs a generation backend ({why}) but none was given in services; "
            "configure a generator or change this component's method"
        )
    return generator


def can_build_generator(services: Any) -> bool:
    """Whether ``generator_for`` can give a generator from these services."""
    return find_generator(services) is not None or (
        getattr(services, "registry", None) is not None and getattr(services, "config", None) is not None
    )


def generator_for(services: Any, model_dir: Path, backend: str, who: str) -> Generator:
    """A generator for the model in ``model_dir``: the one in ``services`` (post-training
    hands the round's policy), else the registry's ``backend`` generator pointed at
    ``model_dir`` (the ``evaluate`` stage hands its stage context, which has ``registry``
    and ``config``)."""
    generator = find_generator(services)
    if generator is not None:
        return generator
    registry, config = getattr(services, "registry", None), getattr(services, "config", None)
    if registry is None or config is None:
        raise ConfigError(f"{who} needs a generation backend: services has no generator, and no registry and "
                          f"config to build the '{backend}' generator for {model_dir}")
    return generator_for_model(services, backend, model_dir)
