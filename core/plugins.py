"""The one plugin manager: built-ins from ``registry.toml``, third parties from the ``herd``
entry-point group, all validated at start-up.

Built-ins are plugins like any other (datasette's ``DEFAULT_PLUGINS``): the core never
imports one by name, it reads their module paths from ``registry.toml``.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import importlib.util
import inspect
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from herd.core import hookspecs
from herd.core.components import FAMILIES, Registry
from herd.core.errors import PluginError

import os

# HERD_REGISTRY points at another built-in list (tests, and applications embedding herd
# with a reduced set of built-ins).
REGISTRY_PATH = Path(os.environ.get("HERD_REGISTRY") or Path(__file__).resolve().parent.parent / "registry.toml")
ENTRY_POINT_GROUP = "herd"
REGISTRY_KEYS = frozenset({"module", "description", "extra", "install", "requires", "always", "config_section"})


@dataclass(frozen=True)
class PluginInfo:
    """What ``registry.toml`` (or an entry point) says about one plugin."""

    name: str
    module: str
    description: str = ""
    extra: str | None = None
    requires: tuple[str, ...] = ()
    always: bool = False
    config_section: str | None = None
    origin: str = "built-in"
    version: str = ""

    install: str | None = None  # how to install what it needs, when not `pip install 'herd[extra]'`

    @property
    def install_hint(self) -> str | None:
        if self.install:
            return self.install
        return f"pip install 'herd[{self.extra}]'" if self.extra else None

    def missing_requirements(self) -> list[str]:
        return [mod for mod in self.requires if importlib.util.find_spec(mod) is None]


def read_builtin_registry(path: Path = REGISTRY_PATH) -> dict[str, PluginInfo]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PluginError(f"cannot read the plugin registry {path}: {exc}") from exc
    infos: dict[str, PluginInfo] = {}
    for name, entry in data.get("plugins", {}).items():
        if "module" not in entry:
            raise PluginError(f"{path}: plugin '{name}' has no 'module'")
        unknown = sorted(set(entry) - REGISTRY_KEYS)
        if unknown:
            raise PluginError(f"{path}: plugin '{name}' has unknown key(s) {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(REGISTRY_KEYS))}); what a plugin registers is "
                              "read from its registrations (`herd plugins`), not listed here")
        infos[name] = PluginInfo(
            name=name,
            module=entry["module"],
            description=entry.get("description", ""),
            extra=entry.get("extra"),
            install=entry.get("install"),
            requires=tuple(entry.get("requires", ())),
            always=bool(entry.get("always", False)),
            config_section=entry.get("config_section"),
        )
    return infos


def discover_entry_points() -> dict[str, PluginInfo]:
    infos: dict[str, PluginInfo] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        if ep.name in infos:
            raise PluginError(
                f"two installed packages register the herd plugin '{ep.name}' "
                f"({infos[ep.name].description} and {dist.name if dist else ep.value}); "
                "uninstall one of them"
            )
        infos[ep.name] = PluginInfo(
            name=ep.name,
            module=ep.value,
            description=f"from package {dist.name}" if dist else ep.value,
            origin=f"entry point ({dist.name} {dist.version})" if dist else "entry point",
            version=dist.version if dist else "",
            always=True,
        )
    return infos


class _HerdPluginManager(pluggy.PluginManager):
    """Treats every ``herd_*`` function of a plugin as a hook implementation, so that a
    misspelt hook name is reported by ``check_pending`` instead of silently ignored."""

    def parse_hookimpl_opts(self, plugin: Any, name: str):  # type: ignore[override]
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("herd_") and callable(getattr(plugin, name, None)):
            return {}
        return opts


@dataclass
class LoadedPlugins:
    """The active plugins and what they registered."""

    infos: dict[str, PluginInfo]
    registry: Registry
    manager: pluggy.PluginManager
    active: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    disabled: list[str] = field(default_factory=list)

    def versions(self) -> dict[str, str]:
        return {name: self.infos[name].version for name in self.active}

    def sources(self) -> dict[str, Path | None]:
        """Each active plugin's source (``plugin_source``): what a stage's cache key hashes."""
        return {name: plugin_source(self.manager.get_plugin(name)) for name in self.active}

    def registered(self, plugin: str) -> dict[str, list[str]]:
        """What ``plugin`` registered, by family (``"config sections"`` for its config
        sections), names sorted; empty when it registered nothing or did not load."""
        found: dict[str, list[str]] = {}
        for component in self.registry.of_plugin(plugin):
            found.setdefault(component.family, []).append(component.name)
        sections = [s for s, (owner, _) in self.registry.config_sections.items() if owner == plugin]
        if sections:
            found["config sections"] = sections
        return {family: sorted(names) for family, names in sorted(found.items())}


def plugin_source(plugin: Any) -> Path | None:
    """The code that implements ``plugin`` (a module or a plugin object): its package's folder
    when it lives in a package, else its module's file; ``None`` when it has no file (a
    plugin defined in ``__main__`` or an interactive session)."""
    module = plugin if isinstance(plugin, ModuleType) else inspect.getmodule(type(plugin))
    file = getattr(module, "__file__", None)
    if module is None or not file or module.__name__ == "__main__":
        return None
    path = Path(file).resolve()
    if path.name == "__init__.py":
        return path.parent
    package = sys.modules.get(module.__package__ or "")
    package_file = getattr(package, "__file__", None)
    return Path(package_file).resolve().parent if package_file else path


def _import_plugin(info: PluginInfo) -> ModuleType:
    try:
        return importlib.import_module(info.module)
    except ModuleNotFoundError as exc:
        missing = exc.name or str(exc)
        if info.module == missing or info.module.startswith(f"{missing}."):
            raise PluginError(
                f"plugin '{info.name}': its module '{info.module}' does not exist; "
                "check registry.toml or the package's entry point"
            ) from exc
        how = info.install_hint or f"pip install {missing}"
        raise PluginError(
            f"plugin '{info.name}' needs the package '{missing}', which is not installed; "
            f"install it with: {how}"
        ) from exc
    except Exception as exc:  # a plugin's own import-time error
        raise PluginError(f"plugin '{info.name}' failed to import: {type(exc).__name__}: {exc}") from exc


def all_plugin_infos(registry_path: Path = REGISTRY_PATH, entry_points: bool = True) -> dict[str, PluginInfo]:
    infos = read_builtin_registry(registry_path)
    if entry_points:
        for name, info in discover_entry_points().items():
            if name in infos:
                raise PluginError(
                    f"the installed plugin '{name}' ({info.origin}) has the name of a "
                    "built-in plugin; rename its entry point"
                )
            infos[name] = info
    return infos


def load_plugins(
    requested: list[str] | tuple[str, ...] = (),
    *,
    registry_path: Path = REGISTRY_PATH,
    entry_points: bool = True,
    extra_plugins: dict[str, Any] | None = None,
    tolerant: bool = False,
    disabled: list[str] | tuple[str, ...] = (),
) -> LoadedPlugins:
    """Load the always-on built-ins, the ``requested`` ones and installed entry points, less
    the ``disabled`` ones (an installed plugin is active until it is disabled).

    ``extra_plugins`` maps names to already-imported plugin objects (tests and embedding
    applications use it, as datasette's tests register a plugin object). ``tolerant``
    records plugins that fail to import in ``failed`` instead of raising (``herd plugins``
    and command discovery use it to report them).
    """
    from herd import __version__

    infos = all_plugin_infos(registry_path, entry_points)
    for name in requested:
        if name not in infos and name not in (extra_plugins or {}):
            hint = difflib.get_close_matches(name, list(infos), n=3)
            suggestion = f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
            raise PluginError(
                f"unknown plugin '{name}' (known: {', '.join(sorted(infos))}){suggestion}"
            )
    _check_disabled(disabled, requested, infos, extra_plugins or {})
    manager = _HerdPluginManager("herd")
    manager.add_hookspecs(hookspecs)
    active: list[str] = []
    failed: dict[str, str] = {}
    for name, info in infos.items():
        if not (info.always or name in requested) or name in disabled:
            continue
        try:
            module = _import_plugin(info)
        except PluginError as exc:
            if not tolerant:
                raise
            failed[name] = str(exc)
            continue
        version = info.version or getattr(module, "__version__", "") or __version__
        infos[name] = PluginInfo(**{**info.__dict__, "version": version})
        manager.register(module, name=name)
        active.append(name)
    for name, obj in (extra_plugins or {}).items():
        if name in disabled:
            continue
        if name in active:
            raise PluginError(f"two plugins are named '{name}'; rename one of them")
        infos.setdefault(name, PluginInfo(name=name, module=repr(obj), origin="in-process", version=__version__))
        manager.register(obj, name=name)
        active.append(name)
    _check_unknown_hooks(manager)
    registry = _collect_registrations(manager)
    return LoadedPlugins(infos=infos, registry=registry, manager=manager, active=active, failed=failed,
                         disabled=list(disabled))


def _check_disabled(disabled, requested, infos: dict[str, PluginInfo], extra: dict[str, Any]) -> None:
    for name in disabled:
        if name not in infos and name not in extra:
            hint = difflib.get_close_matches(name, list(infos) + list(extra), n=3)
            suggestion = f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
            raise PluginError(f"cannot disable unknown plugin '{name}' (known: {', '.join(sorted(infos))})"
                              f"{suggestion}; check --disable-plugin and run.disable_plugins")
        if name in requested:
            raise PluginError(f"plugin '{name}' is both activated (--plugins / run.plugins) and disabled "
                              "(--disable-plugin / run.disable_plugins); remove it from one of them")


def _check_unknown_hooks(manager: pluggy.PluginManager) -> None:
    """``check_pending`` with an error that names the plugin and the hook it misspelt."""
    known = sorted(n for n in dir(hookspecs) if n.startswith("herd_"))
    for hook_name in sorted(vars(manager.hook)):
        caller = getattr(manager.hook, hook_name)
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            hint = difflib.get_close_matches(hook_name, known, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise PluginError(
                f"plugin '{impl.plugin_name}' implements '{hook_name}', which matches no hook "
                f"specification{suggestion} (known hooks are in herd/core/hookspecs.py)"
            )
    manager.check_pending()


def _collect_registrations(manager: pluggy.PluginManager) -> Registry:
    """Call each plugin's register hooks with a ``register`` bound to that plugin."""
    registry = Registry()
    for impl in manager.hook.herd_register_config_sections.get_hookimpls():
        impl.function(
            register=lambda section, schema, _p=impl.plugin_name: registry.add_section(_p, section, schema)
        )
    for family in FAMILIES:
        caller = getattr(manager.hook, f"herd_register_{family}")
        for impl in caller.get_hookimpls():
            try:
                impl.function(register=registry.registrar(family, impl.plugin_name))
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin '{impl.plugin_name}' raised in herd_register_{family}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
    return registry
