"""Length limits per row: each SFT or preference source may declare how long its rows may
be, up to the model's context, so long-context rows are trained at their length while
short tasks keep the default.

A row's limit, first that applies:

1. ``[posttrain] max_len_by_capability[<row's capability>]`` (the user's word);
2. the ``max_len`` option of the synthesizer that made the row
   (``register(..., max_len=32768)`` in ``herd_register_synthesizers``);
3. ``[posttrain] max_len``.

A limit above the model's context (``max_position_embeddings`` of the starting model) is
cut to the context. Rows longer than their limit are dropped into the ledger with the
limit and where it came from (``data.check_lengths``); nothing is truncated silently.
Trainers then pack and pad to the largest limit in play (``LengthPolicy.largest``), so no
kept row is cut.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from herd.core.components import Registry
from herd.core.errors import ConfigError, StageError
from herd.core.records import PreferenceRow, SFTRow


@dataclass(frozen=True)
class Limit:
    tokens: int
    origin: str  # the config key or registration the limit comes from


@dataclass(frozen=True)
class LengthPolicy:
    default: int
    context: int
    by_capability: dict[str, int] = field(default_factory=dict)
    by_synthesizer: dict[str, int] = field(default_factory=dict)

    def limit(self, row: SFTRow | PreferenceRow) -> Limit:
        if row.capability in self.by_capability:
            return self._capped(self.by_capability[row.capability],
                                f"[posttrain] max_len_by_capability.{row.capability}")
        synthesizer = row.metadata.get("synthesizer")
        if synthesizer in self.by_synthesizer:
            return self._capped(self.by_synthesizer[synthesizer], f"synthesizer '{synthesizer}' max_len")
        return self._capped(self.default, "[posttrain] max_len")

    def _capped(self, tokens: int, origin: str) -> Limit:
        if tokens > self.context:
            return Limit(self.context, f"{origin} ({tokens}) cut to the model's context")
        return Limit(tokens, origin)

    def largest(self, rows: list[SFTRow] | list[PreferenceRow]) -> int:
        """The packing/padding length that fits every row (the default when there are none)."""
        return max((self.limit(r).tokens for r in rows), default=min(self.default, self.context))


def model_context(model_dir: Path) -> int:
    """The starting model's context: ``max_position_embeddings`` of its ``config.json``."""
    path = Path(model_dir) / "config.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("max_position_embeddings")
    except (OSError, json.JSONDecodeError) as exc:
        raise StageError(f"{path}: cannot read the model's context length ({exc})") from exc
    if not isinstance(value, int) or value < 1:
        raise StageError(f"{path}: max_position_embeddings is {value!r}, not a positive integer")
    return value


def length_policy(default: int, by_capability: dict[str, int], registry: Registry, context: int) -> LengthPolicy:
    """The policy from ``[posttrain]`` and the synthesizers' registrations; a configured
    limit beyond the model's context is an error naming the key."""
    for capability, tokens in by_capability.items():
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
            raise ConfigError(f"[posttrain] max_len_by_capability.{capability} = {tokens!r}: give a positive "
                              "number of tokens")
        if tokens > context:
            raise ConfigError(f"[posttrain] max_len_by_capability.{capability} = {tokens} is above the model's "
                              f"context of {context} tokens; lower it to at most {context}")
    synth = {}
    for name in registry.names("synthesizers"):
        component = registry.get("synthesizers", name)
        tokens = component.options.get("max_len")
        if tokens is None:
            continue
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
            raise ConfigError(f"plugin '{component.plugin}' registered synthesizer '{name}' with max_len={tokens!r}; "
                              "max_len must be a positive number of tokens")
        synth[name] = tokens
    return LengthPolicy(default=default, context=context, by_capability=dict(by_capability), by_synthesizer=synth)
