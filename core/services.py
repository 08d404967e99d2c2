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
