"""The registry of everything plugins contribute, filled through the register callbacks.

The core hands each plugin a ``register`` function bound to that plugin's name, so every
registration knows its origin and errors can name the plugin at fault.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any, Callable

from herd.core.errors import PluginError
from herd.core.families import FAMILY_SPECS, check_registration, singular

# Registration order: config sections first (in plugins.py), then these.
FAMILIES = tuple(FAMILY_SPECS)


# The CLI's own commands, which no plugin may replace.
RESERVED_COMMANDS = frozenset({"run", "plugins", "stages", "inspect", "config", "version"})


@dataclass(frozen=True)
class Component:
    """One registered thing: ``factory`` builds it, ``options`` holds family-specific
    registration options (``suffixes`` for sources, ``kind`` for judges...), checked
    against ``families.FAMILY_SPECS`` when it is added."""

    family: str
    name: str
    plugin: str
    factory: Callable[..., Any]
    description: str = ""
    config: type | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Registry:
    components: dict[str, dict[str, Component]] = field(
        default_factory=lambda: {family: {} for family in FAMILIES}
    )
    config_sections: dict[str, tuple[str, type]] = field(default_factory=dict)

    def add(self, component: Component) -> None:
        family = self.components[component.family]
        if not component.name or not isinstance(component.name, str):
            raise PluginError(
                f"plugin '{component.plugin}' registered a {singular(component.family)} without a name"
            )
        if not callable(component.factory):
            raise PluginError(
                f"plugin '{component.plugin}' registered {singular(component.family)} "
                f"'{component.name}' with a factory that is not callable"
            )
        if component.config is not None and not dataclasses.is_dataclass(component.config):
            raise PluginError(
                f"plugin '{component.plugin}': config of {singular(component.family)} "
                f"'{component.name}' must be a dataclass, got {component.config!r}"
            )
        check_registration(component.plugin, component.family, component.name, component.factory, component.options)
        previous = family.get(component.name)
        if previous is not None:
            raise PluginError(
                f"{singular(component.family)} '{component.name}' is registered by both plugin "
                f"'{previous.plugin}' and plugin '{component.plugin}'; rename one of them"
            )
        family[component.name] = component

    def add_section(self, plugin: str, section: str, schema: type) -> None:
        if not dataclasses.is_dataclass(schema):
            raise PluginError(
                f"plugin '{plugin}' declared config section [{section}] with {schema!r}, "
                "which is not a dataclass"
            )
        if section in self.config_sections:
            owner = self.config_sections[section][0]
            raise PluginError(
                f"config section [{section}] is declared by both plugin '{owner}' and "
                f"plugin '{plugin}'"
            )
        self.config_sections[section] = (plugin, schema)

    def get(self, family: str, name: str) -> Component:
        known = self.components[family]
        if name in known:
            return known[name]
        hint = difflib.get_close_matches(name, list(known), n=3)
        suggestion = f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
        available = ", ".join(sorted(known)) or "none"
        raise PluginError(
            f"no {singular(family)} named '{name}' (available: {available}){suggestion}"
        )

    def names(self, family: str) -> list[str]:
        return sorted(self.components[family])

    def of_plugin(self, plugin: str) -> list[Component]:
        return [c for fam in self.components.values() for c in fam.values() if c.plugin == plugin]

    def registrar(self, family: str, plugin: str) -> Callable[..., None]:
        """The ``register`` callback handed to one plugin's ``herd_register_<family>``."""
        if family == "commands":
            return self._command_registrar(plugin)

        def register(
            name: str,
            factory: Callable[..., Any],
            *,
            description: str = "",
            config: type | None = None,
            **options: Any,
        ) -> None:
            self.add(
                Component(
                    family=family,
                    name=name,
                    plugin=plugin,
                    factory=factory,
                    description=description,
                    config=config,
                    options=options,
                )
            )

        return register

    def _command_registrar(self, plugin: str) -> Callable[..., None]:
        """Commands register ``(name, add_arguments, run, *, help)``: the factory is
        ``add_arguments`` and ``run`` travels in the options."""

        def register(name: str, add_arguments: Callable[..., Any], run: Callable[..., int], *, help: str = "") -> None:
            if name in RESERVED_COMMANDS:
                raise PluginError(f"plugin '{plugin}' registered command '{name}', which is a core command; rename it")
            if not callable(run):
                raise PluginError(f"plugin '{plugin}' registered command '{name}' whose run is not callable")
            self.add(Component("commands", name, plugin, add_arguments, description=help, options={"run": run, "help": help}))

        return register
