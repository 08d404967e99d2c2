"""Resolving the configured step names into buildable steps.

A step name is looked up in the ``extractors``, ``filters`` and ``dedupers`` families (a
``family.name`` picks one family). Extractors (``extract(html, url) -> str``) are wrapped so
that they act like any other document step.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

from herd.core.components import Registry
from herd.core.errors import ConfigError
from herd.core.records import Document, Drop

STEP_FAMILIES = ("extractors", "filters", "dedupers")


@dataclass(frozen=True)
class StepSpec:
    """One configured step: enough to build it in any process (factory and config pickle)."""

    name: str
    family: str
    factory: Callable[..., Any]
    config: Any = None
    anchor: str | None = None  # a plugin default filter placed after this step

    @property
    def is_corpus_step(self) -> bool:
        return self.family == "dedupers"

    def build(self) -> Any:
        step = self.factory(self.config)
        if self.family == "extractors" and not hasattr(step, "apply"):
            return ExtractorStep(self.name, step)
        return step


class ExtractorStep:
    """Runs an ``Extractor`` on records that have HTML and no text yet."""

    def __init__(self, name: str, extractor: Any):
        self.name = name
        self.extractor = extractor

    def apply(self, doc: Document) -> Document | Drop:
        if doc.text or not doc.html:
            return doc
        text = self.extractor.extract(doc.html, doc.url)
        if not text or not text.strip():
            return Drop(f"{self.name}.no_text", "the page has no main text after extraction")
        doc.text = text
        return doc


def resolve_steps(
    names: list[str],
    registry: Registry,
    component_config: Callable[[str, str], Any],
    plugin_defaults: bool = True,
    key: str = "curate.steps",
) -> list[StepSpec]:
    """Turn ``names`` into ``StepSpec``s, appending the filters that plugins register with
    ``default=True``. Unknown or ambiguous names raise ``ConfigError`` naming ``key``."""
    specs: list[StepSpec] = []
    seen: set[str] = set()
    for index, name in enumerate(names):
        family, bare = _find(name, registry, f"{key}[{index}]")
        if bare in seen:
            raise ConfigError(f"{key} names step '{bare}' twice; each step runs once")
        seen.add(bare)
        component = registry.get(family, bare)
        specs.append(StepSpec(bare, family, component.factory, component_config(family, bare)))
    if plugin_defaults:
        defaults = [(name, c) for name, c in sorted(registry.components["filters"].items())
                    if c.options.get("default") and name not in seen]
        _place_defaults(specs, defaults, component_config)
    return specs


def _place_defaults(specs: list[StepSpec], defaults: list, component_config: Callable[[str, str], Any]) -> None:
    """Plugin default filters go right after the step named by their ``after`` option
    when it runs (language ID right after extraction, so later filters see the language),
    else at the end; one anchored on another default waits for it."""
    pending = list(defaults)
    while pending:
        progressed = False
        for name, component in list(pending):
            anchor = component.options.get("after")
            names = [spec.name for spec in specs]
            if anchor and anchor not in names and any(anchor == other for other, _ in pending):
                continue  # its anchor is a default not placed yet
            spec = StepSpec(name, "filters", component.factory, component_config("filters", name), anchor)
            if anchor in names:
                position = names.index(anchor) + 1
                while position < len(specs) and specs[position].name in _placed_after(specs, anchor):
                    position += 1
                specs.insert(position, spec)
            else:
                specs.append(spec)
            pending.remove((name, component))
            progressed = True
        if not progressed:  # anchors that form a cycle: append in name order
            for name, component in pending:
                specs.append(StepSpec(name, "filters", component.factory, component_config("filters", name)))
            return


def _placed_after(specs: list[StepSpec], anchor: str) -> set[str]:
    return {spec.name for spec in specs if spec.anchor == anchor}


def _find(name: str, registry: Registry, key: str) -> tuple[str, str]:
    if "." in name:
        family, bare = name.split(".", 1)
        if family not in STEP_FAMILIES:
            raise ConfigError(
                f"{key} = '{name}': '{family}' is not a step family (use one of {', '.join(STEP_FAMILIES)})"
            )
        if bare in registry.components[family]:
            return family, bare
        return _unknown(name, registry, key)
    found = [family for family in STEP_FAMILIES if name in registry.components[family]]
    if len(found) > 1:
        options = " or ".join(f"'{f}.{name}'" for f in found)
        raise ConfigError(f"{key} = '{name}' is ambiguous: write {options}")
    if not found:
        return _unknown(name, registry, key)
    return found[0], name


def _unknown(name: str, registry: Registry, key: str) -> tuple[str, str]:
    known = [n for family in STEP_FAMILIES for n in registry.components[family]]
    qualified = [f"{f}.{n}" for f in STEP_FAMILIES for n in registry.components[f]]
    hint = difflib.get_close_matches(name, known + qualified, n=3)
    suggestion = f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
    raise ConfigError(
        f"{key} = '{name}' is not a registered extractor, filter or deduper{suggestion} "
        f"(available: {', '.join(sorted(known)) or 'none'}; is the plugin that provides it active?)"
    )
