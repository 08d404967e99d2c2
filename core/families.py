"""What each plugin family's ``register`` accepts: the arguments the core calls its
factories with and the options it allows, in one table (``FAMILY_SPECS``).

``check_registration`` holds a registration against its family's row at start-up, so a
misspelt option or a factory with the wrong signature is an error naming the plugin when
herd starts, not a silently ignored option or a ``TypeError`` half-way through a run.
Allowing a new option is one line in the family's ``options``.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from herd.core.errors import PluginError

# What a judge is for; the post-training loop and the SFT funnel pick judges by kind.
JUDGE_KINDS = ("reward", "quality", "difficulty", "topic", "language", "verifier", "rule")


@dataclass(frozen=True)
class Option:
    """A registration option a family allows: ``valid(value)`` says whether a value is
    acceptable, ``expects`` says what is, for the error message."""

    valid: Callable[[Any], bool]
    expects: str


def _is_names(value: Any) -> bool:
    # A bare string is refused: ``reads="pretrain"`` would be read as its letters.
    return isinstance(value, (tuple, list)) and all(isinstance(v, str) and v for v in value)


NAMES = Option(_is_names, "a tuple of names, e.g. (\"pretrain\",)")
TEXT = Option(lambda v: isinstance(v, str) and bool(v), "a non-empty string")
FLAG = Option(lambda v: isinstance(v, bool), "True or False")
FUNCTION = Option(callable, "a callable")
POSITIVE = Option(lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a positive integer (tokens)")


def one_of(choices: tuple[str, ...]) -> Option:
    return Option(lambda v: v in choices, f"one of {', '.join(repr(c) for c in choices)}")


@dataclass(frozen=True)
class FamilySpec:
    """``factory_args``: what the core passes the factory, positionally (the names are for
    error messages). ``options``: the keyword options ``register`` accepts beyond
    ``description`` and ``config``."""

    factory_args: tuple[str, ...]
    options: dict[str, Option] = field(default_factory=dict)


CONFIG = ("config",)
CONFIG_AND_SERVICES = ("config", "services")  # services: herd.core.services.Services

FAMILY_SPECS: dict[str, FamilySpec] = {
    "sources": FamilySpec(CONFIG, {"suffixes": NAMES}),
    "extractors": FamilySpec(CONFIG),
    "filters": FamilySpec(CONFIG, {"default": FLAG, "after": TEXT}),
    "dedupers": FamilySpec(CONFIG),
    "mixers": FamilySpec(CONFIG),
    "judges": FamilySpec(CONFIG_AND_SERVICES, {"kind": one_of(JUDGE_KINDS)}),
    "synthesizers": FamilySpec(CONFIG_AND_SERVICES, {"capability": TEXT, "default": FLAG, "max_len": POSITIVE}),
    "environments": FamilySpec(CONFIG_AND_SERVICES, {"capability": TEXT}),
    "trainers": FamilySpec(CONFIG),
    "generators": FamilySpec(CONFIG, {"model_stage": TEXT}),
    "evaluators": FamilySpec(CONFIG_AND_SERVICES, {"capability": TEXT}),
    "tools": FamilySpec(CONFIG_AND_SERVICES),
    "sandboxes": FamilySpec(CONFIG, {"isolated": FLAG, "probe": FUNCTION}),
    "stages": FamilySpec(("context",), {
        "reads": NAMES,
        "optional_reads": NAMES,
        "config_sections": NAMES,
        "provides": NAMES,  # what the stage makes ("expert_model"); read as "provides:<what>"
    }),
    # Commands register (name, add_arguments, run, *, help): the factory is add_arguments.
    "commands": FamilySpec(("parser",), {"run": FUNCTION, "help": Option(lambda v: isinstance(v, str), "a string")}),
}

COMMAND_RUN_ARGS = ("args", "app")


def check_registration(plugin: str, family: str, name: str, factory: Callable[..., Any],
                       options: dict[str, Any]) -> None:
    """Raise ``PluginError`` naming ``plugin`` when ``options`` or ``factory`` do not fit
    ``family``'s row of ``FAMILY_SPECS``."""
    spec = FAMILY_SPECS[family]
    what = f"plugin '{plugin}' registered {singular(family)} '{name}'"
    for key, value in options.items():
        option = spec.options.get(key)
        if option is None:
            allowed = sorted(spec.options) + ["description", "config"]
            closest = difflib.get_close_matches(key, allowed, n=1, cutoff=0.0)[0]
            raise PluginError(f"{what} with unknown option '{key}'; did you mean '{closest}'? "
                              f"({family} accept {', '.join(allowed)})")
        if not option.valid(value):
            raise PluginError(f"{what} with {key}={value!r}; {key} must be {option.expects}")
    check_arity(what, factory, spec.factory_args, f"{family} are built as factory({', '.join(spec.factory_args)})")
    if family == "commands":
        check_arity(what, options["run"], COMMAND_RUN_ARGS, "a command runs as run(args, app)")


def check_arity(what: str, function: Callable[..., Any], args: tuple[str, ...], how: str) -> None:
    """``function`` must accept ``len(args)`` positional arguments (more with defaults are
    fine). Callables whose signature Python cannot read (some builtins) are not checked."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*args)
    except TypeError:
        label = getattr(function, "__qualname__", repr(function))
        raise PluginError(f"{what} with {label}{signature}, which cannot be called with ({', '.join(args)}): "
                          f"{how}; change its signature") from None


def singular(family: str) -> str:
    """``"judges"`` -> ``"judge"``, ``"sandboxes"`` -> ``"sandbox"``: for messages."""
    return family[:-2] if family.endswith("xes") else family[:-1]
