"""Keyword rules (regular expressions) matched case-insensitively, fast.

A rule such as ``(?<![^\\W_])porn(?:o|ography)?(?![^\\W_])`` starts with a lookbehind, which
keeps Python's ``re`` from skipping ahead to the rule's first character: the engine tries the
whole pattern at every position of the text (~1 µs per character for 19 rules, the slowest
step of the pipeline). Almost every rule begins with plain text, though, and a document can
only match a rule whose leading text it contains. So each rule keeps that *literal prefix*,
and its regex runs only on documents whose lower-cased text contains it (``in`` on a string:
a few GB/s). The answer is exactly the regex's: the pre-check never skips a rule that would
match (see ``KeywordRules.matching``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_META = frozenset("\\.^$*+?{}[]|()")
_OPTIONAL_AFTER = ("*", "?", "{")


def _has_top_level_alternation(pattern: str) -> bool:
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


def literal_prefix(pattern: str) -> str:
    """The plain text every match of ``pattern`` starts with ('' when there is none):
    its leading run of non-special characters, less the last one when a quantifier that
    allows zero repetitions follows it."""
    if _has_top_level_alternation(pattern):
        return ""
    chars: list[str] = []
    for ch in pattern:
        if ch in _META:
            break
        chars.append(ch)
    if chars and pattern[len(chars):len(chars) + 1] in _OPTIONAL_AFTER:
        chars.pop()
    return "".join(chars)


def _case_twins() -> dict[str, str]:
    """Characters that ``re.IGNORECASE`` equates with another one although ``str.lower()``
    maps them apart (dotless ı and i, long ſ and s, Cyrillic and Greek variants...), keyed by
    the lower-cased character they equal. ``İ`` lower-cases to two characters in ``str.lower``
    but to ``i`` in ``re``."""
    twins: dict[str, set[str]] = {"i": {"\u0130"}}
    try:
        from re import _casefix  # CPython's table of these cases (private, 3.11+)

        extra = _casefix._EXTRA_CASES
    except (ImportError, AttributeError):
        extra = {}
    for code, others in extra.items():
        group = {chr(code), *map(chr, others)}
        for ch in group:
            twins.setdefault(ch.lower(), set()).update(g for g in group if g.lower() != ch.lower())
    return {k: "".join(sorted(v)) for k, v in twins.items()}


_TWINS = _case_twins()


@dataclass(frozen=True)
class _Rule:
    source: str
    regex: re.Pattern
    prefix: str  # lower-cased literal prefix
    twins: str  # (non-ASCII) characters that re.IGNORECASE takes for a prefix character


class KeywordRules:
    """Rules compiled case-insensitively as ``before + rule + after``; ``before`` and
    ``after`` must be zero-width (boundary lookarounds), so a match of the whole starts with
    the rule's literal prefix."""

    def __init__(self, rules: list[str], before: str = "", after: str = ""):
        self.rules: list[_Rule] = []
        for rule in rules:
            regex = re.compile(before + rule + after, re.IGNORECASE)
            prefix = literal_prefix(rule)
            if any(len(ch.lower()) != 1 for ch in prefix):
                prefix = ""
            prefix = prefix.lower()
            twins = "".join(sorted({t for ch in prefix for t in _TWINS.get(ch, "")}))
            if any(t.isascii() for t in twins):
                prefix, twins = "", ""  # an ASCII text could match without the prefix: always run
            self.rules.append(_Rule(rule, regex, prefix, twins))

    def matching(self, text: str, limit: int = 0) -> list[str]:
        """The source of every rule that matches ``text`` (in rule order), stopping after
        ``limit`` matches when ``limit`` > 0.

        A rule's prefix is looked for in ``text.lower()``; its regex runs only when the prefix
        is there, or when the text holds a character ``re.IGNORECASE`` would take for one of the
        prefix's characters although ``lower()`` does not (then the regex decides)."""
        lowered = text.lower()
        ascii_only = text.isascii()
        found: list[str] = []
        for rule in self.rules:
            maybe = rule.prefix in lowered or (not ascii_only and any(t in text for t in rule.twins))
            if maybe and rule.regex.search(text):
                found.append(rule.source)
                if limit and len(found) >= limit:
                    break
        return found
