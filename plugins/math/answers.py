"""A final answer's shape: a scalar, an equation, a set, a tuple, an interval, a union of
intervals, or words.

``parse_answer(text)`` reads the shape from the brackets and separators at the top
level (``{1, 2}`` a set, ``(1, 2)`` a tuple, ``[1, 2)`` an interval, ``x = 7`` an
equation, ``1, 2`` the set of all solutions MATH-style answers list) and each value with
``expression.parse``. It raises ``ParseError`` (the text is not an answer it can read)
or ``TooLarge``.
"""

from __future__ import annotations

from dataclasses import dataclass

from herd.plugins.math import normalize
from herd.plugins.math.expression import Node, ParseError, parse


@dataclass(frozen=True)
class Scalar:
    expr: Node
    percent: bool = False
    degrees: bool = False


@dataclass(frozen=True)
class Equation:
    lhs: Node
    rhs: Answer


@dataclass(frozen=True)
class Items:
    """``kind``: "set" (order-free) or "tuple" (ordered)."""

    kind: str
    items: tuple[Answer, ...]


@dataclass(frozen=True)
class Interval:
    lo: Node
    hi: Node
    lo_closed: bool
    hi_closed: bool


@dataclass(frozen=True)
class Union:
    parts: tuple[Interval, ...]


@dataclass(frozen=True)
class Text:
    text: str


Answer = Scalar | Equation | Items | Interval | Union | Text

_PAIRS = {"(": ")", "[": "]", "{": "}"}


def parse_answer(text: str) -> Answer:
    s = normalize.clean(text)
    if not s:
        raise ParseError("empty answer")
    return _answer(s)


def _answer(s: str) -> Answer:
    s = s.strip()
    if normalize.is_words(s):
        return Text(" ".join(s.lower().split()))
    parts = _split_top(s, "\\cup")
    if len(parts) > 1:
        intervals = [_answer(p) for p in parts]
        if not all(isinstance(i, Interval) for i in intervals):
            raise ParseError("a union of things that are not intervals")
        return Union(tuple(intervals))
    if s[0] in _PAIRS and _closing(s, 0) == len(s) - 1:
        inner = s[1:-1]
        items = _split_top(inner, ",")
        if s[0] == "{":
            return Items("set", tuple(_answer(i) for i in items if i.strip()))
        if len(items) > 1:
            return _bracketed(s[0], s[-1], items)
    items = _split_top(s, ",")
    if len(items) > 1:
        return Items("set", tuple(_answer(i) for i in items if i.strip()))
    sides = _split_top(s, "=")
    if len(sides) > 1:
        if any(not side.strip() for side in sides):
            raise ParseError("an equation with an empty side")
        return Equation(parse(sides[0]), _answer(sides[-1]))
    return _scalar(s)


def _bracketed(open_: str, close: str, items: list[str]) -> Answer:
    values = tuple(_answer(i) for i in items)
    infinite = any("\\infty" in i for i in items)
    if len(items) == 2 and (open_ != "(" or close != ")" or infinite):
        lo, hi = values
        if not isinstance(lo, Scalar) or not isinstance(hi, Scalar):
            raise ParseError("an interval whose ends are not numbers")
        return Interval(lo.expr, hi.expr, open_ == "[", close == "]")
    return Items("tuple", values)


def _scalar(s: str) -> Scalar:
    n = normalize.scalar(s)
    if not n.text:
        raise ParseError("no value left once the unit is removed")
    return Scalar(parse(n.text), n.percent, n.degrees)


def _closing(s: str, start: int) -> int:
    """Index of the bracket closing the one at ``start`` (any bracket kind closes: ``[1, 2)``)."""
    depth = 0
    for i in range(start, len(s)):
        if s[i] in "([{":
            depth += 1
        elif s[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _split_top(s: str, sep: str) -> list[str]:
    """``s`` split at ``sep`` outside brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        ch = s[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(s[start:])
    return parts
