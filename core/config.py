"""Typed run configuration: dataclass schemas, profiles, one TOML file, ``--set`` overrides.

Resolution order, later wins: the schema's defaults (the ``default`` profile) -> the
schema's ``PROFILES[profile]`` -> the TOML file -> ``--set section.key=value``.
Plugins declare their sections (``herd_register_config_sections``) and components declare
theirs (``[<family>.<name>]``), so an unknown key is always an error with its path.

Values are checked before any stage runs: a field declares its valid range or choices in
its metadata (``ranged``, ``positive``, ``non_negative``, ``fraction``, ``one_of`` write
it; a list's or a table's numbers are each checked), and a section whose names refer to registered things
(curation's steps) declares ``validate(self, config, registry) -> list[str]``, returning
one problem per bad value. Every problem of a config is reported at once (exit code 2).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from herd.core.components import FAMILIES, Registry
from herd.core.errors import ConfigError

PROFILES = ("quick", "default", "full")

# Field metadata keys read by ``range_problems``.
MIN, MAX, EXCLUSIVE, EXCLUSIVE_MAX, ONE_OF = "min", "max", "exclusive", "exclusive_max", "one_of"


def ranged(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING,
           min: float | None = None, max: float | None = None, exclusive: bool = False,
           exclusive_max: bool = False) -> Any:
    """A dataclass field whose numbers must lie in [min, max] (``exclusive``: above min,
    not at it; ``exclusive_max``: below max). For a list or a table, each of its numbers."""
    metadata: dict[str, Any] = {EXCLUSIVE: exclusive, EXCLUSIVE_MAX: exclusive_max}
    if min is not None:
        metadata[MIN] = min
    if max is not None:
        metadata[MAX] = max
    return field(default=default, default_factory=default_factory, metadata=metadata)


def positive(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING) -> Any:
    """Above 0: timeouts, learning rates, sizes that cannot be empty."""
    return ranged(default, default_factory=default_factory, min=0, exclusive=True)


def non_negative(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING) -> Any:
    """0 or more: counts where 0 means none (or "all", as the field says)."""
    return ranged(default, default_factory=default_factory, min=0)


def fraction(default: Any = dataclasses.MISSING) -> Any:
    """A share, 0 to 1."""
    return ranged(default, min=0, max=1)


def one_of(default: str, choices: typing.Sequence[str]) -> Any:
    """A string that must be one of ``choices`` (a mode, a format)."""
    return field(default=default, metadata={ONE_OF: tuple(choices)})


@dataclass
class RunConfig:
    """``[run]``: what to run and where."""

    name: str = "default"
    profile: str = "default"
    plugins: list[str] = field(default_factory=list)
    disable_plugins: list[str] = field(default_factory=list)  # installed plugins not to load (docs/plugins.md)
    stages: list[str] = field(default_factory=list)  # empty: every stage of the graph
    seed: int = 0
    runs_dir: str = "runs"
    # Step metrics always go to each training loop's metrics.jsonl; these loggers get them
    # too (offline, never the network): "tensorboard", "wandb" (core/metrics.py).
    loggers: list[str] = field(default_factory=list)

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"quick": {"name": "quick"}, "full": {"name": "full"}}

    def validate(self, config: "Config", registry: Registry) -> list[str]:
        from herd.core.metrics import logger_problems

        return logger_problems(self.loggers)


CORE_SECTIONS: dict[str, type] = {"run": RunConfig}


class Config:
    """The resolved configuration of one run."""

    def __init__(self, profile: str, sections: dict[str, Any], components: dict[tuple[str, str], Any]):
        self.profile = profile
        self._sections = sections
        self._components = components

    @property
    def run(self) -> RunConfig:
        return self._sections["run"]

    def section(self, name: str) -> Any:
        if name not in self._sections:
            raise ConfigError(
                f"no config section [{name}] is declared by the active plugins "
                f"(declared: {', '.join(sorted(self._sections))})"
            )
        return self._sections[name]

    def has_section(self, name: str) -> bool:
        return name in self._sections

    def component(self, family: str, name: str) -> Any | None:
        return self._components.get((family, name))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {n: dataclasses.asdict(v) for n, v in sorted(self._sections.items())}
        for (family, name), value in sorted(self._components.items()):
            data.setdefault(family, {})[name] = dataclasses.asdict(value)
        return data

    def subset_hash(self, names: typing.Iterable[str]) -> str:
        """Hash of the named sections (a name may be a family: all its components)."""
        full = self.to_dict()
        picked = {n: full.get(n) for n in sorted(set(names))}
        picked["profile"] = self.profile
        return hashlib.sha256(json.dumps(picked, sort_keys=True, default=str).encode()).hexdigest()

    def to_toml(self) -> str:
        return dump_toml(self.to_dict())


def parse_override(text: str) -> tuple[list[str], Any]:
    """``section.key=value``: the value is read as a TOML literal when it is one
    (``3``, ``0.5``, ``true``, ``["a","b"]``) and as a plain string otherwise."""
    if "=" not in text:
        raise ConfigError(f"--set '{text}': expected section.key=value")
    path, raw = text.split("=", 1)
    keys = [k.strip() for k in path.strip().split(".")]
    if len(keys) < 2 or not all(keys):
        raise ConfigError(f"--set '{text}': the key must be section.key (e.g. run.seed=3)")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return keys, value


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8: {exc}") from None


def load_config(
    registry: Registry,
    *,
    profile: str | None = None,
    file: Path | None = None,
    overrides: typing.Sequence[str] = (),
) -> Config:
    raw: dict[str, Any] = read_toml(file) if file else {}
    where = str(file) if file else "the config"
    for text in overrides:
        keys, value = parse_override(text)
        _set_nested(raw, keys, value)
    if overrides:
        where = f"{where} or --set"
    chosen = profile or raw.get("run", {}).get("profile") or "default"
    if chosen not in PROFILES:
        raise ConfigError(f"unknown profile '{chosen}' (known: {', '.join(PROFILES)})")
    raw.setdefault("run", {})["profile"] = chosen

    schemas = dict(CORE_SECTIONS)
    for section, (_plugin, schema) in registry.config_sections.items():
        if section in schemas or section in FAMILIES:
            raise ConfigError(f"config section [{section}] clashes with a core section")
        schemas[section] = schema
    _check_unknown(raw, list(schemas) + [f for f in FAMILIES if _family_has_configs(registry, f)], "", where)

    sections = {
        name: _build(schema, _profiled(schema, chosen, raw.get(name, {}), name), name)
        for name, schema in schemas.items()
    }
    components: dict[tuple[str, str], Any] = {}
    for family in FAMILIES:
        given = raw.get(family, {})
        if not isinstance(given, dict):
            raise ConfigError(f"[{family}] in {where} must be a table of component sections")
        configurable = {n: c for n, c in registry.components[family].items() if c.config is not None}
        _check_unknown(given, list(configurable), f"{family}.", where)
        for name, comp in configurable.items():
            data = given.get(name, {})
            components[(family, name)] = _build(
                comp.config, _profiled(comp.config, chosen, data, f"{family}.{name}"), f"{family}.{name}"
            )
    config = Config(chosen, sections, components)
    check_values(config, registry, where)
    return config


@typing.runtime_checkable
class SelfValidating(typing.Protocol):
    """A config dataclass that checks its own names (steps, components) against the
    registry: one message per bad value, each naming its key and the closest valid name."""

    def validate(self, config: Config, registry: Registry) -> list[str]: ...


def check_values(config: Config, registry: Registry, where: str = "the config") -> None:
    """Every value in its declared range and every section's own ``validate``; one
    ``ConfigError`` listing all problems, so a run never starts on a bad config."""
    tables = [(name, value) for name, value in config._sections.items()]
    tables += [(f"{family}.{name}", value) for (family, name), value in config._components.items()]
    problems: list[str] = []
    for path, value in sorted(tables, key=lambda t: t[0]):
        problems += range_problems(value, path)
        if isinstance(value, SelfValidating):
            problems += value.validate(config, registry)
    if problems:
        lines = "\n  ".join(problems)
        raise ConfigError(f"{len(problems)} invalid config value(s) in {where}:\n  {lines}"
                          if len(problems) > 1 else f"invalid config value in {where}: {problems[0]}")


def range_problems(value: Any, path: str) -> list[str]:
    """Problems with the numbers of dataclass ``value`` (and its nested dataclasses) against
    the ranges their fields declare, each naming the key path and the bad value."""
    problems: list[str] = []
    for item in dataclasses.fields(value):
        current = getattr(value, item.name)
        key = f"{path}.{item.name}"
        if dataclasses.is_dataclass(current) and not isinstance(current, type):
            problems += range_problems(current, key)
            continue
        if ONE_OF in item.metadata:
            problems += _choice_problem(current, item.metadata[ONE_OF], key)
            continue
        if MIN not in item.metadata and MAX not in item.metadata:
            continue
        if isinstance(current, dict):
            numbers = [(f"{key}.{k}", v) for k, v in current.items()]
        elif isinstance(current, (list, tuple)):
            numbers = [(f"{key}[{i}]", v) for i, v in enumerate(current)]
        else:
            numbers = [(key, current)]
        for name, number in numbers:
            why = _out_of_range(number, item.metadata)
            if why:
                problems.append(f"'{name}' = {number!r} {why}")
    return problems


def _choice_problem(current: Any, choices: tuple[str, ...], key: str) -> list[str]:
    if current in choices:
        return []
    hint = difflib.get_close_matches(str(current), choices, n=1)
    suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
    return [f"'{key}' = {current!r} is not one of {', '.join(choices)}{suggestion}"]


def _out_of_range(number: Any, meta: typing.Mapping[str, Any]) -> str:
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return ""  # the type check already ran; None means "unset"
    if number != number:
        return "is not a number"
    low, high = meta.get(MIN), meta.get(MAX)
    too_low = low is not None and (number <= low if meta.get(EXCLUSIVE) else number < low)
    too_high = high is not None and (number >= high if meta.get(EXCLUSIVE_MAX) else number > high)
    if not (too_low or too_high):
        return ""
    lower = f"> {low}" if meta.get(EXCLUSIVE) else f">= {low}"
    upper = f"< {high}" if meta.get(EXCLUSIVE_MAX) else f"<= {high}"
    bounds = [b for b, given in ((lower, low is not None), (upper, high is not None)) if given]
    return f"is out of range: it must be {' and '.join(bounds)}"


def _family_has_configs(registry: Registry, family: str) -> bool:
    return any(c.config is not None for c in registry.components[family].values())


def _set_nested(raw: dict[str, Any], keys: list[str], value: Any) -> None:
    node = raw
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {'.'.join(keys)}: '{key}' is a value, not a section")
    node[keys[-1]] = value


def _check_unknown(given: dict[str, Any], known: list[str], prefix: str, where: str) -> None:
    for key in given:
        if key in known:
            continue
        hint = difflib.get_close_matches(key, known, n=1)
        suggestion = f"; did you mean '{prefix}{hint[0]}'?" if hint else ""
        raise ConfigError(
            f"unknown config key '{prefix}{key}' in {where}{suggestion} "
            f"(known here: {', '.join(sorted(known)) or 'none'})"
        )


def _profiled(schema: type, profile: str, given: Any, path: str) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ConfigError(f"config key '{path}' must be a table, got {type(given).__name__}")
    return _overlaid(schema, dict(getattr(schema, "PROFILES", {}).get(profile, {})), given)


def _overlaid(schema: type, base: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` over ``base``; a nested section (a dataclass field) is merged key by key, so
    that setting one key of it keeps the profile's other values of that section."""
    hints = typing.get_type_hints(schema)
    merged = dict(base)
    for key, value in given.items():
        hint = hints.get(key)
        if (isinstance(value, dict) and isinstance(merged.get(key), dict)
                and isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            merged[key] = _overlaid(hint, merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(schema: type, data: dict[str, Any], path: str) -> Any:
    hints = typing.get_type_hints(schema)
    fields = {f.name: f for f in dataclasses.fields(schema) if f.init}
    _check_unknown(data, list(fields), f"{path}.", "the config")
    kwargs = {name: _coerce(hints[name], value, f"{path}.{name}") for name, value in data.items()}
    try:
        return schema(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config section [{path}] is invalid: {exc}") from None


def _coerce(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, path)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"config key '{path}' has an invalid value")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"config key '{path}' must be one of {list(args)}, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{path}' must be a table, got {type(value).__name__}")
        return _build(hint, value, path)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key '{path}' must be a list, got {type(value).__name__} {value!r}")
        inner = args[0] if args else Any
        items = [_coerce(inner, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{path}' must be a table, got {type(value).__name__}")
        inner = args[1] if len(args) == 2 else Any
        return {str(k): _coerce(inner, v, f"{path}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key '{path}' must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key '{path}' must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key '{path}' must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key '{path}' must be a string, got {value!r}")
        return value
    if hint is Path:
        if not isinstance(value, str):
            raise ConfigError(f"config key '{path}' must be a path string, got {value!r}")
        return Path(value)
    return value


def dump_toml(data: dict[str, Any]) -> str:
    """Write a resolved config as TOML (``None`` values are written as comments, since TOML
    has no null)."""
    lines: list[str] = []
    _dump_table(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _dump_table(table: dict[str, Any], path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if path and (scalars or not tables):
        lines.append(f"\n[{'.'.join(_key(p) for p in path)}]")
    for key, value in scalars.items():
        if value is None:
            lines.append(f"# {_key(key)} is unset")
        else:
            lines.append(f"{_key(key)} = {_literal(value)}")
    for key, value in tables.items():
        _dump_table(value, path + [key], lines)


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_literal(v)}" for k, v in value.items() if v is not None) + " }"
    return json.dumps(str(value))
