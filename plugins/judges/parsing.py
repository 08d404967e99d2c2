"""Robust parsing of LLM-judge answers into numbers.

Judges answer in many shapes: JSON (``{"score": 4}``), ``Score: 4/5``, ``**4**``,
``Rating: 4 out of 5``, prose with the verdict last, or nothing usable. Every parse returns
a value and, when the value is ``None``, the reason, so an unparseable answer is recorded
as such (``protocols.Score.value is None``) instead of guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_LABELS = ("score", "rating", "overall", "grade", "verdict")


def _labelled(key: str) -> re.Pattern[str]:
    labels = "|".join(re.escape(label) for label in dict.fromkeys((key, *_LABELS)))
    return re.compile(
        r"(?:" + labels + r")\**\s*(?:is|of)?\s*[:=]?\s*\**\s*" + _NUMBER
        + r"\s*\**\s*(?:(?:/|out\s+of)\s*(\d+))?",
        re.IGNORECASE,
    )
_BOLD = re.compile(r"\*\*\s*" + _NUMBER + r"\s*(?:/\s*(\d+))?\s*\*\*")
_FRACTION = re.compile(_NUMBER + r"\s*(?:/|out\s+of)\s*(\d+)")
_ANY_NUMBER = re.compile(r"(?<![\w.])" + _NUMBER + r"(?!\w|\.\d)")


@dataclass(frozen=True)
class Parsed:
    value: float | None
    reason: str = ""


def parse_score(text: str, low: float, high: float, key: str = "score") -> Parsed:
    """The judge's score on the ``low``..``high`` scale, or None with the reason."""
    if not text or not text.strip():
        return Parsed(None, "empty judge answer")
    obj = find_json(text)
    if isinstance(obj, dict):
        for name in (key, "score", "rating", "overall"):
            if name in obj:
                return _in_scale(obj[name], low, high, f"JSON key '{name}'")
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return _in_scale(obj, low, high, "JSON number")
    for pattern, what in ((_labelled(key), "labelled score"), (_BOLD, "bold score"), (_FRACTION, "fraction")):
        matches = list(pattern.finditer(text))
        if matches:
            last = matches[-1]  # judges state their verdict last
            return _with_denominator(last.group(1), last.group(2), low, high, what)
    numbers = {float(m.group(1)) for m in _ANY_NUMBER.finditer(text)}
    in_scale = sorted(n for n in numbers if low <= n <= high)
    if len(in_scale) == 1:
        return Parsed(in_scale[0])
    if not numbers:
        return Parsed(None, "no number in the judge answer")
    if not in_scale:
        return Parsed(None, f"no number on the scale {_fmt(low)}-{_fmt(high)} in the judge answer")
    listed = ", ".join(_fmt(n) for n in in_scale)
    return Parsed(None, f"ambiguous judge answer: several numbers ({listed}) and no labelled score")


def parse_rubric(text: str, criteria: list[str], low: float, high: float) -> dict[str, Parsed]:
    """One score per rubric criterion: from a JSON object, else from ``criterion: N`` lines
    (underscores and spaces in criterion names are interchangeable)."""
    if not text or not text.strip():
        return {c: Parsed(None, "empty judge answer") for c in criteria}
    obj = find_json(text)
    results: dict[str, Parsed] = {}
    for criterion in criteria:
        if isinstance(obj, dict):
            found = _json_lookup(obj, criterion)
            if found is not None:
                results[criterion] = _in_scale(found, low, high, f"JSON key '{criterion}'")
                continue
        words = r"[\s_-]*".join(re.escape(w) for w in criterion.split("_"))
        pattern = re.compile(words + r"\W{0,6}" + _NUMBER + r"\s*(?:(?:/|out\s+of)\s*(\d+))?", re.IGNORECASE)
        match = pattern.search(text)
        if match:
            results[criterion] = _with_denominator(match.group(1), match.group(2), low, high, criterion)
        else:
            results[criterion] = Parsed(None, f"no score for '{criterion}' in the judge answer")
    return results


def find_json(text: str) -> Any:
    """The first JSON value (object or list) embedded in ``text``, fenced or not; None if none."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for i, char in enumerate(text):
        if char not in "{[":
            continue
        try:
            value, _ = decoder.raw_decode(text[i:])
        except ValueError:
            continue
        return value
    return None


def _json_lookup(obj: dict[str, Any], criterion: str) -> Any:
    wanted = criterion.replace("_", "").replace(" ", "").lower()
    for key, value in obj.items():
        if str(key).replace("_", "").replace(" ", "").replace("-", "").lower() == wanted:
            if isinstance(value, dict):
                return value.get("score", value.get("rating"))
            return value
    return None


def _with_denominator(number: str, denominator: str | None, low: float, high: float, what: str) -> Parsed:
    if denominator is not None and float(denominator) != high:
        return Parsed(None, f"{what} {number}/{denominator} is not on the scale {_fmt(low)}-{_fmt(high)}")
    return _in_scale(number, low, high, what)


def _in_scale(value: Any, low: float, high: float, what: str) -> Parsed:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return Parsed(None, f"{what} is not a number: {value!r}")
    if number != number or not low <= number <= high:
        return Parsed(None, f"{what} {_fmt(number)} is outside the scale {_fmt(low)}-{_fmt(high)}")
    return Parsed(number)


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
