"""Answer text to the plain spelling the expression parser reads.

What is removed carries no value (math delimiters, spacing commands, ``\\left``,
currency signs, thousands separators); what carries meaning becomes a flag on the
answer (a percent sign, a degree mark) or a plain operator (``\\cdot`` -> ``*``).
Units after a number (``5 cm``, ``12 apples``, ``3\\text{ hours}``) are dropped: the
answer is the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DELIMITERS = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$")
_SPACING = re.compile(r"\\[,;:! ]|\\quad|\\qquad|\\displaystyle|\\left|\\right|\\big|\\Big|~|\\limits")
_TEXT_AFTER_NUMBER = re.compile(r"(?<=[\d}])\s*\\(?:text|mbox|mathrm|textbf|rm)\s*\{[^{}]*\}")
_TEXT = re.compile(r"\\(?:text|mbox|mathrm|textbf|mathbf|textit|rm|operatorname)\s*\{([^{}]*)\}")
_DEGREES = re.compile(r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|°|\\degree|\s+degrees?\b)\s*$")
_PERCENT = re.compile(r"\s*(?:\\%|%|\s+percent\b)\s*$")
_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})((?:,\d{3})+)(?![\d])")
_SPACE_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3})((?:[ \u00a0\u202f]\d{3})+)(?![\d.])")
_CURRENCY = re.compile(r"\\\$|[€£¥₹]|\bUSD\b|\bEUR\b|\\euro|\\pounds")
# A trailing unit: words after the number ("5 cm", "12 apples", "3 m/s", "40 sq ft").
_UNIT = re.compile(r"^(.*?[\d)}.])(?:\s+((?:[a-zA-Z]{2,}|[a-zA-Z]\.)[\sa-zA-Z./^\d]*)"
                   r"|((?:cm|mm|km|kg|mg|ml|mL|mph|kmh|hrs?|mins?|ft|in|yd|lbs?|oz)(?:\^?\d|/[a-z]+)?))$")
_FUNCTION_WORDS = frozenset({"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "pi", "sqrt",
                             "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "lg", "frac", "infty"})
_REPLACE = (
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cfrac", "\\frac"),
    ("\\{", "{"), ("\\}", "}"), ("\\lbrace", "{"), ("\\rbrace", "}"),
    ("\\langle", "("), ("\\rangle", ")"), ("{,}", ""),
    ("−", "-"), ("–", "-"), ("×", "*"), ("·", "*"), ("÷", "/"), ("∞", "\\infty"), ("π", "\\pi"),
    ("√", "\\sqrt"), ("∪", "\\cup"), ("\\dots", ""), ("\\ldots", ""),
)


@dataclass(frozen=True)
class Normalized:
    text: str
    percent: bool = False
    degrees: bool = False


def clean(text: str) -> str:
    """Delimiters, spacing, text wrappers and currency removed; spellings unified."""
    s = _DELIMITERS.sub(" ", text)
    s = _SPACING.sub(" ", s)
    for old, new in _REPLACE:
        s = s.replace(old, new)
    s = _TEXT_AFTER_NUMBER.sub(" ", s)
    s = _TEXT.sub(lambda m: m.group(1), s)
    s = _CURRENCY.sub("", s)
    s = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), s)
    s = _SPACE_THOUSANDS.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), s)
    return " ".join(s.split()).strip().rstrip(".").strip()


def scalar(text: str) -> Normalized:
    """One value's text with its percent or degree mark and its unit taken off."""
    s = text.strip()
    percent = degrees = False
    if m := _PERCENT.search(s):
        s, percent = s[: m.start()], True
    elif m := _DEGREES.search(s):
        s, degrees = s[: m.start()], True
    s = strip_unit(s)
    if not percent and not degrees:
        if m := _PERCENT.search(s):
            s, percent = s[: m.start()], True
        elif m := _DEGREES.search(s):
            s, degrees = s[: m.start()], True
    return Normalized(s.strip(), percent, degrees)


def strip_unit(text: str) -> str:
    m = _UNIT.match(text)
    if m is None:
        return text
    first = re.match(r"[a-zA-Z]+", m.group(2) or m.group(3)).group()
    if first.lower() in _FUNCTION_WORDS or first in ("percent", "degree", "degrees"):
        return text
    return m.group(1)


def is_words(text: str) -> bool:
    """Plain words (``yes``, ``Monday``, ``no solution``): compared as text, not as a
    product of one-letter variables."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z '\-]*", text)) and bool(re.search(r"[A-Za-z]{2,}", text)) \
        and not any(w.lower() in _FUNCTION_WORDS for w in re.findall(r"[A-Za-z]+", text))
