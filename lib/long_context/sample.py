"""A long-context sample as RULER writes it, and what a task builder hands the sizer."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol

from herd.core.errors import InputError


@dataclass(frozen=True)
class Composed:
    """One sample's text at one haystack size: ``input`` ends where the answer begins;
    ``depth``: where the (first queried) needle sits, in percent of the context (NIAH only);
    ``query``: the key(s) asked and ``needles``: the needle sentences, first queried first
    (NIAH only)."""

    input: str
    outputs: list[str]
    depth: int | None = None
    query: str | None = None
    needles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sample:
    """A RULER row: ``length`` is the input's tokens plus the task's generation budget
    (RULER's ``tokens_to_generate``), so ``length <= --length`` leaves room to answer.
    ``query`` and ``needles`` (NIAH) say what was hidden and asked; they are not part of
    RULER's row (``to_row``), and a row read back has none."""

    index: int
    input: str
    outputs: list[str]
    length: int
    depth: int | None = None
    query: str | None = None
    needles: tuple[str, ...] = ()

    def to_row(self) -> dict:
        row = {"index": self.index, "input": self.input, "outputs": list(self.outputs), "length": self.length}
        if self.depth is not None:
            row["depth"] = self.depth
        return row

    @classmethod
    def from_row(cls, row: dict, where: str) -> "Sample":
        try:
            return cls(int(row["index"]), str(row["input"]), [str(o) for o in row["outputs"]], int(row["length"]),
                       None if row.get("depth") is None else int(row["depth"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: not a RULER row (index, input, outputs, length): {exc}") from None


class Builder(Protocol):
    """Makes one sample's text for a haystack of ``size`` units (words, needles, list
    entries...), always with the same needles, keys and answers: only the size changes."""

    min_size: int

    def compose(self, size: int) -> Composed: ...

    def first_size(self, budget: int, hint: int | None) -> int:
        """A size whose input should take about ``budget`` tokens (``hint``: the size the
        previous samples of this task and length ended with)."""

    def unit_tokens(self) -> float:
        """About how many tokens one unit of size adds."""


def linear_first_size(builder: Builder, fixed_tokens: int, budget: int, hint: int | None) -> int:
    """For builders whose input grows by about ``unit_tokens()`` per unit past ``min_size``
    (the word-list tasks): the size that spends ``budget`` given the tokens of the input at
    ``min_size``."""
    if hint is not None:
        return hint
    return builder.min_size + max(0, math.floor((budget - fixed_tokens) / builder.unit_tokens()))


def write_samples(samples: Iterable[Sample], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for sample in samples:
            handle.write(json.dumps(sample.to_row(), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_samples(path: Path) -> list[Sample]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"samples file {path} cannot be read: {exc}") from None
    out = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not JSON ({exc})") from None
            out.append(Sample.from_row(row, f"{path}:{number}"))
    return out
