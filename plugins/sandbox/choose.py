"""Pick and open the sandbox backend the config asks for, refusing unisolated execution
unless the user allowed it (``sandbox.allow_unisolated = true``)."""

from __future__ import annotations

from herd.core.components import Registry
from herd.core.errors import ConfigError
from herd.core.protocols import Sandbox
from herd.plugins.sandbox.config import SandboxConfig


def available_backend(cfg: SandboxConfig) -> str | None:
    """The isolated backend ``backend = "auto"`` resolves to here, or None."""
    from herd.plugins.sandbox.docker_backend import docker_available
    from herd.plugins.sandbox.local_backends import bwrap_problem

    if docker_available(cfg.image):
        return "docker"
    if bwrap_problem() is None:
        return "bwrap"
    return None


def open_sandbox(
    cfg: SandboxConfig | None = None, backend: str | None = None, registry: Registry | None = None
) -> Sandbox:
    """Open ``backend`` (default ``cfg.backend``); the caller must ``close()`` it.

    With a ``registry`` any plugin's registered sandbox can be named; without one, the
    built-in backends. A backend registered with ``isolated=False`` is refused unless
    ``cfg.allow_unisolated`` is true.
    """
    cfg = cfg or SandboxConfig()
    name = backend or cfg.backend
    if name == "auto":
        name = available_backend(cfg)
        if name is None:
            raise ConfigError(
                "no isolated sandbox is available: no Docker daemon with the image "
                f"'{cfg.image}' (start dockerd and run `python cli.py sandbox build-image`) and "
                "bubblewrap cannot create namespaces here (apt-get install bubblewrap). herd "
                "will not run generated code unisolated unless you set "
                "sandbox.backend = 'unisolated' and sandbox.allow_unisolated = true"
            )
    factory, isolated = _lookup(name, registry)
    if not isolated and not cfg.allow_unisolated:
        raise ConfigError(
            f"sandbox backend '{name}' does not isolate programs from this machine; herd "
            "refuses to run generated code with it unless you set sandbox.allow_unisolated = true"
        )
    return factory(cfg)


def _lookup(name: str, registry: Registry | None):
    if registry is not None:
        component = registry.get("sandboxes", name)
        return component.factory, bool(component.options.get("isolated", False))
    from herd.plugins.sandbox import BUILTIN_BACKENDS

    if name not in BUILTIN_BACKENDS:
        raise ConfigError(
            f"sandbox.backend = '{name}' is not a sandbox backend "
            f"(known: auto, {', '.join(sorted(BUILTIN_BACKENDS))})"
        )
    return BUILTIN_BACKENDS[name]
