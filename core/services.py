"""``Services``: what a component factory of the families built as ``factory(config,
services)`` (judges, synthesizers, environments, evaluators) may use from the running
stage, and nothing else.

One contract for every family, so a capability plugin's evaluator works the same inside
the post-training loop (which hands the round's policy) and in the ``evaluate`` stage
(which hands the final model). A stage makes one with ``Services(ctx, generator=...,
sandbox=...)``; a command or a test, outside any stage, with ``Services.for_app(app,
workdir=...)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from herd.core.components import Registry
from herd.core.config import Config
from herd.core.errors import ConfigError
from herd.core.protocols import Generator, Sandbox

if TYPE_CHECKING:
    from herd.core.app import App
    from herd.core.pipeline import StageContext

# What a stage that trains a model leaves in its folder (the pretrain, code_expert and
# posttrain stages write the Hugging Face export there).
FINAL_MODEL = "final_model"


def build_generator(registry: Registry, config: Config, backend: str, model_dir: Path) -> Generator:
    """The registered generator ``backend`` pointed at ``model_dir``: its config section
    (or defaults) with ``model_path`` replaced. Backends without a ``model_path`` setting
    (an HTTP endpoint serves one fixed model) are an error, since they cannot load it."""
    component = registry.get("generators", backend)
    cfg = config.component("generators", backend)
    if cfg is None and component.config is not None:
        cfg = component.config()
    if cfg is None or not hasattr(cfg, "model_path"):
        raise ConfigError(f"generator '{backend}' has no model_path setting, so it cannot load {model_dir}; "
                          "choose a backend that loads a model directory (e.g. 'local')")
    return component.factory(dataclasses.replace(cfg, model_path=str(model_dir)))


def generator_for_model(ctx: "StageContext", backend: str, model_dir: Path) -> Generator:
    """``build_generator`` with a stage context's registry and config."""
    return build_generator(ctx.registry, ctx.config, backend, Path(model_dir))


@dataclass(init=False, eq=False)
class Services:
    """``config``, ``registry``, ``log``, ``workdir``: the running stage's (or command's).
    ``generator``: the model under test or training (None when there is none yet);
    ``generator_dir``: the model directory it was loaded from, when known, so that
    ``generator_for`` of that directory reuses it. ``sandbox``: an open sandbox the caller
    holds, or None (``open_sandbox`` opens one from ``[sandbox]``). ``backend``: the
    generator backend ``generator_for`` builds by default. ``inputs``: the folders of the
    earlier stages the stage reads (``model_dir`` looks there)."""

    config: Config
    registry: Registry
    log: logging.Logger
    workdir: Path
    generator: Generator | None
    generator_dir: Path | None
    sandbox: Sandbox | None
    backend: str
    inputs: Mapping[str, Path]
    _built: dict[tuple[str, Path], Generator] = field(repr=False)

    def __init__(self, ctx: "StageContext", generator: Generator | None = None, sandbox: Sandbox | None = None,
                 *, generator_dir: Path | None = None, backend: str = "local"):
        """The services of the running stage ``ctx``."""
        self._fill(ctx.config, ctx.registry, ctx.log, ctx.workdir, ctx.inputs,
                   generator, generator_dir, sandbox, backend)

    @classmethod
    def for_app(cls, app: "App", *, workdir: Path, generator: Generator | None = None,
                sandbox: Sandbox | None = None, generator_dir: Path | None = None, backend: str = "local",
                inputs: Mapping[str, Path] | None = None) -> "Services":
        """Services for a component built outside a stage (a command such as ``eval-code``,
        a test): the app's config, registry and log, and ``workdir`` for its files."""
        services = cls.__new__(cls)
        services._fill(app.config, app.registry, app.log, Path(workdir), inputs or {},
                       generator, generator_dir, sandbox, backend)
        return services

    def _fill(self, config: Config, registry: Registry, log: logging.Logger, workdir: Path,
              inputs: Mapping[str, Path], generator: Generator | None, generator_dir: Path | None,
              sandbox: Sandbox | None, backend: str) -> None:
        self.config, self.registry, self.log, self.workdir = config, registry, log, workdir
        self.inputs = dict(inputs)
        self.generator, self.sandbox, self.backend = generator, sandbox, backend
        self.generator_dir = Path(generator_dir) if generator_dir is not None else None
        self._built = {}

    # -- models ---------------------------------------------------------------------------
    def require_generator(self, component: str, why: str) -> Generator:
        """``generator``, or a ConfigError naming ``component`` and why it needs one."""
        return need_generator(self, component, why)

    def generator_for(self, model_dir: Path, backend: str | None = None) -> Generator:
        """A generator for the model in ``model_dir`` (an evaluator given a model path):
        ``generator`` when it was loaded from that directory by the same backend, else the
        registered ``backend`` (default ``self.backend``) pointed at it, built once."""
        backend = backend or self.backend
        model_dir = Path(model_dir)
        if (self.generator is not None and self.generator_dir is not None and backend == self.backend
                and self.generator_dir.resolve() == model_dir.resolve()):
            return self.generator
        key = (backend, model_dir.resolve())
        if key not in self._built:
            self._built[key] = build_generator(self.registry, self.config, backend, model_dir)
        return self._built[key]

    def model_dir(self, stage: str) -> Path | None:
        """The final model of the earlier stage ``stage`` (``<its folder>/final_model``),
        when this stage reads it and it left one; else None."""
        folder = self.inputs.get(stage)
        if folder is None or not (Path(folder) / FINAL_MODEL).is_dir():
            return None
        return Path(folder) / FINAL_MODEL

    # -- programs -------------------------------------------------------------------------
    @contextlib.contextmanager
    def open_sandbox(self) -> Iterator[Sandbox]:
        """``sandbox`` when the caller holds one open (it stays open), otherwise a sandbox
        opened from the config's ``[sandbox]`` section (defaults when it has none) with this
        registry's backends, and closed on exit."""
        if self.sandbox is not None:
            yield self.sandbox
            return
        # The one place that decides which backend runs untrusted code (and refuses an
        # unisolated one unless allowed) is the library's chooser; imported here, not at the
        # top, so that the core imports no library module unless a sandbox is opened.
        from herd.lib.sandbox.choose import open_sandbox
        from herd.lib.sandbox.config import SandboxConfig

        cfg = self.config.section("sandbox") if self.config.has_section("sandbox") else SandboxConfig()
        sandbox = open_sandbox(cfg, registry=self.registry)
        try:
            yield sandbox
        finally:
            sandbox.close()

    def sandbox_for(self, owner: object) -> Sandbox:
        """``open_sandbox``'s sandbox kept open for as long as ``owner`` lives (a judge or an
        environment that runs program after program on warm workers) and closed when it is
        collected; the caller's held ``sandbox`` is returned as is and stays open."""
        held = contextlib.ExitStack()
        sandbox = held.enter_context(self.open_sandbox())
        weakref.finalize(owner, held.close)
        return sandbox


def need_generator(services: Services | None, component: str, why: str) -> Generator:
    """The services' generator, or a ConfigError naming ``component`` (``"judge
    'quality'"``) and ``why`` it generates. For constructors whose services are optional."""
    if services is None or services.generator is None:
        raise ConfigError(f"{component} needs a generation backend ({why}) but its services hold no generator; "
                          "run it where a model is in hand (post-training), pass one in its services, "
                          "or change this component's method")
    return services.generator
