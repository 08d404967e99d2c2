"""Personal data: e-mail addresses, phone numbers, IP addresses, payment cards, IBANs.

docs/recipe.md section 1 ("Safety and PII"): redact or drop. ``mode = "redact"`` (default) replaces
each match with a placeholder such as ``<EMAIL>``; ``mode = "drop"`` drops the document on the
first match. Card numbers must pass the Luhn check and IBANs the ISO 13616 mod-97 check, so
ordinary long numbers (order ids, timestamps) are left alone.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Callable, Iterator

from herd.plugins.curation_steps.configs import KINDS, PIIConfig
from herd.core.errors import ConfigError
from herd.core.records import Document, Drop


# Every pattern below starts with a character class or a literal (never with a lookbehind):
# then ``re`` skips straight to the positions where that first character occurs instead of
# trying the whole pattern at every position of the text, which made this step ~5x faster.
# The left boundary a lookbehind used to check is checked by ``_Scanner`` (same matches).
_EMAIL_LOCAL = frozenset("_.+-")
_EMAIL = re.compile(r"[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
# International (+CC ...) or North-American style numbers with separators; plain digit runs
# are not phones (they would match years, ids and prices). The first character picks the
# branch (``(?<=...)`` after it), so the pattern starts with one character class.
_PHONE = re.compile(
    r"[+(\d](?:(?<=\+)\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]\d{2,4}){2,4}"
    r"|(?<=\()\d{3}\)\s?\d{3}[\s.-]\d{4}|(?<=\d)\d{2}[.-]\d{3}[.-]\d{4})(?![\w])"
)
# a dotted quad of complete digit runs; the octets' range is checked by ``_ipv4_octets``
_IPV4 = re.compile(r"\d\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")  # two of an address's colons; starts with a literal
_CARD = re.compile(r"\d[ -]?(?:\d[ -]?){11,17}\d(?!\d)")
_IBAN = re.compile(r"[A-Z][A-Z]\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # re's \w


def _ipv4_octets(value: str) -> bool:
    """0-255 without leading zeros, as ``25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d`` allows."""
    return all(octet == str(int(octet)) and int(octet) <= 255 for octet in value.split("."))


class _Scanner:
    """``finditer`` of ``(?<!before)pattern`` with the lookbehind checked in Python: a match
    whose preceding character fails ``not_before`` (or that ``accept`` refuses) is skipped
    and the search goes on at the next position, exactly as the regex engine would."""

    def __init__(self, pattern: re.Pattern, not_before: Callable[[str], bool] | None = None,
                 accept: Callable[[str], bool] | None = None):
        self.pattern = pattern
        self.not_before = not_before
        self.accept = accept

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match]:
        search = self.pattern.search
        while True:
            m = search(text, pos)
            if m is None:
                return
            start = m.start()
            if (start and self.not_before and self.not_before(text[start - 1])) or (
                    self.accept and not self.accept(m.group(0))):
                pos = start + 1
                continue
            yield m
            pos = max(m.end(), start + 1)


class _Emails:
    """E-mail addresses, found from their ``@``: the local part is the run of ``[\\w.+-]``
    characters before it (at most 64), so the pattern is tried at one position per ``@``
    instead of at every word character."""

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match]:
        end = pos
        at = text.find("@", pos)
        while at != -1:
            start = at
            while start > 0 and at - start <= 64 and (_is_word(text[start - 1]) or text[start - 1] in _EMAIL_LOCAL):
                start -= 1
            if start >= end and 0 < at - start <= 64:
                m = _EMAIL.match(text, start)
                if m is not None:
                    yield m
                    end = m.end()
            at = text.find("@", max(at + 1, end))


class _IPv6:
    """Only texts with two colons at most four hex digits apart can hold an address; the
    search starts four characters before the first such pair."""

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match]:
        hint = _IPV6_HINT.search(text, pos)
        if hint is None:
            return iter(())
        return _IPV6.finditer(text, max(pos, hint.start() - 4))


def luhn_valid(number: str) -> bool:
    """True when the digits of ``number`` pass the Luhn checksum (ISO/IEC 7812)."""
    digits = [int(ch) for ch in number if ch.isdigit()]
    if len(digits) < 13:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def _valid_ipv6(text: str) -> bool:
    if text.count(":") < 2 or not any(ch.isdigit() for ch in text):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _phone_ok(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return 7 <= digits <= 15


_CHECKS: dict[str, tuple[Any, Callable[[str], bool] | None]] = {
    "email": (_Emails(), None),
    "card": (_Scanner(_CARD, str.isdigit), luhn_valid),
    "iban": (_Scanner(_IBAN, _is_word), iban_valid),
    "ipv6": (_IPv6(), _valid_ipv6),
    "ipv4": (_Scanner(_IPV4, lambda ch: ch.isdigit() or ch == ".", _ipv4_octets), None),
    "phone": (_Scanner(_PHONE, lambda ch: _is_word(ch) or ch == "+"), _phone_ok),
}


class PII:
    """Reasons (``mode = "drop"``): ``pii.<kind>``. In redact mode the count of replacements
    per kind is stored in ``doc.metadata["pii"]``."""

    name = "pii"

    def __init__(self, cfg: PIIConfig | None = None):
        self.cfg = cfg or PIIConfig()
        if self.cfg.mode not in ("redact", "drop"):
            raise ConfigError(f"[filters.pii] mode must be 'redact' or 'drop', got {self.cfg.mode!r}")
        unknown = set(self.cfg.kinds) - set(KINDS)
        if unknown:
            raise ConfigError(f"[filters.pii] kinds: unknown {sorted(unknown)}; known: {list(KINDS)}")
        # order matters: cards and IBANs before phones so a card is not half-redacted as a phone
        self.kinds = [k for k in _CHECKS if k in self.cfg.kinds]
        self.keep_ips = set(self.cfg.keep_ips)

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """All identifiers in ``text`` as ``(kind, start, end)``, non-overlapping, in order."""
        found: list[tuple[str, int, int]] = []
        taken: list[tuple[int, int]] = []
        for kind in self.kinds:
            scanner, valid = _CHECKS[kind]
            for m in scanner.finditer(text):
                value = m.group(0)
                if valid is not None and not valid(value):
                    continue
                if kind.startswith("ip") and value in self.keep_ips:
                    continue
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                taken.append((m.start(), m.end()))
                found.append((kind, m.start(), m.end()))
        return sorted(found, key=lambda f: f[1])

    def apply(self, doc: Document) -> Document | Drop:
        found = self.find(doc.text)
        if not found:
            return doc
        if self.cfg.mode == "drop":
            kind, start, end = found[0]
            return Drop(f"pii.{kind}", f"{kind} at offset {start}")
        parts, last, counts = [], 0, {}
        for kind, start, end in found:
            parts.append(doc.text[last:start])
            parts.append(self.cfg.placeholder.format(kind=kind.upper()))
            last = end
            counts[kind] = counts.get(kind, 0) + 1
        parts.append(doc.text[last:])
        doc.text = "".join(parts)
        doc.metadata["pii"] = counts
        return doc
