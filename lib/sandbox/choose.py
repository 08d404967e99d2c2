"""Pick and open the sandbox backend the config asks for, refusing unisolated execution
unless the user allowed it (``sandbox.allow_unisolated = true``).

Backends come from the registry (``herd_register_sandboxes``), so a third-party backend is
chosen exactly like a built-in one. ``backend = "auto"`` takes the first isolated backend,
in registration order, whose ``probe(cfg)`` option reports no problem on this machine."""

from __future__ import annotations

from herd.core.components import Registry
from herd.core.errors import ConfigError
from herd.core.protocols import Sandbox
from herd.lib.sandbox.config import SandboxConfig


def default_registry() -> Registry:
    """The registry of the always-active plugins (what a caller without an ``App`` gets)."""
    from herd.core.plugins import load_plugins

    return load_plugins().registry


def available_backend(cfg: SandboxConfig, registry: Registry | None = None) -> str | None:
    """The isolated backend ``backend = "auto"`` resolves to here, or None."""
    registry = registry or default_registry()
    # Registration order is preference order (the sandbox plugin registers docker first).
    for name, component in registry.components["sandboxes"].items():
        options = component.options
        probe = options.get("probe")
        if options.get("isolated") and probe is not None and probe(cfg) is None:
            return name
    return None


def open_sandbox(
    cfg: SandboxConfig | None = None, backend: str | None = None, registry: Registry | None = None
) -> Sandbox:
    """Open ``backend`` (default ``cfg.backend``); the caller must ``close()`` it.

    A backend registered with ``isolated=False`` is refused unless ``cfg.allow_unisolated``
    is true."""
    cfg = cfg or SandboxConfig()
    registry = registry or default_registry()
    name = backend or cfg.backend
    if name == "auto":
        name = available_backend(cfg, registry)
        if name is None:
            raise ConfigError(
                "no isolated sandbox is available: no Docker daemon with the image "
                f"'{cfg.image}' (start dockerd and run `python cli.py sandbox build-image`) and "
                "bubblewrap cannot create namespaces here (apt-get install bubblewrap). herd "
                "will not run generated code unisolated unless you set "
                "sandbox.backend = 'unisolated' and sandbox.allow_unisolated = true"
            )
    known = registry.names("sandboxes")
    if name not in known:
        raise ConfigError(f"sandbox.backend = '{name}' is not a sandbox backend (known: auto, {', '.join(sorted(known))})")
    component = registry.get("sandboxes", name)
    if not component.options.get("isolated", False) and not cfg.allow_unisolated:
        raise ConfigError(
            f"sandbox backend '{name}' does not isolate programs from this machine; herd "
            "refuses to run generated code with it unless you set sandbox.allow_unisolated = true"
        )
    return component.factory(cfg)
