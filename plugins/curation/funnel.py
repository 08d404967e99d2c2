"""Per-step counts and timings, merged across shards into ``funnel.json``.

Tokens are whitespace-separated words of a record's text (of its HTML before extraction):
cheap, tokenizer-independent and enough to see where a step removes volume.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def count_tokens(text: str | None) -> int:
    return len(text.split()) if text else 0


@dataclass
class StepStats:
    records_in: int = 0
    records_out: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    drops: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.drops[reason] = self.drops.get(reason, 0) + 1

    def merge(self, other: "StepStats") -> None:
        self.records_in += other.records_in
        self.records_out += other.records_out
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.seconds += other.seconds
        for reason, n in other.drops.items():
            self.drops[reason] = self.drops.get(reason, 0) + n

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 4)
        data["dropped"] = sum(self.drops.values())
        data["drops"] = dict(sorted(self.drops.items()))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StepStats":
        return cls(
            records_in=data["records_in"],
            records_out=data["records_out"],
            tokens_in=data["tokens_in"],
            tokens_out=data["tokens_out"],
            seconds=data["seconds"],
            drops=dict(data["drops"]),
        )


def merge_all(parts: list[dict[str, StepStats]]) -> dict[str, StepStats]:
    total: dict[str, StepStats] = {}
    for part in parts:
        for name, stats in part.items():
            total.setdefault(name, StepStats()).merge(stats)
    return total
