"""The final answer in a free-text response, in the order models mark it: the last
``\\boxed{...}``, the GSM8K ``#### x`` line, "the answer is x" / "final answer: x", and
failing those the last number or math segment of the text."""

from __future__ import annotations

import re

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*")
_HASHES = re.compile(r"####\s*([^\n]+)")
_PHRASE = re.compile(
    r"(?:final answer|the answer|answer)\s*(?:(?:is|was|will be|should be|would be)\s*[:=]?|[:=])\s*(?:that\s+)?",
    re.I)
# A sentence ends at a full stop followed by a space and more text, or at the line's end;
# a decimal point ("3.5") is not followed by a space.
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\n")
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_NUMBER = re.compile(
    r"-?[$€£]?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?\s*%?")


def extract(text: str) -> str | None:
    """The final answer's text, or ``None`` when the response has none."""
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    hashes = _HASHES.findall(text)
    if hashes:
        return hashes[-1].strip()
    phrase = _after_phrase(text)
    if phrase:
        return phrase
    return _last_value(text)


def reference_answer(text: str) -> str:
    """A reference is its own answer unless it is a worked solution with a marked one."""
    if _BOXED.search(text) or "####" in text:
        return extract(text) or text
    return text.strip()


def _last_boxed(text: str) -> str | None:
    matches = list(_BOXED.finditer(text))
    for m in reversed(matches):
        start = m.end()
        if start < len(text) and text[start] == "{":
            end = _matching_brace(text, start)
            # An unclosed box is still the answer the model marked: it fails to parse,
            # rather than letting an earlier number stand in for it.
            return text[start + 1:end] if end is not None else text[start + 1:]
        elif start < len(text):
            word = re.match(r"[^\s$]+", text[start:])
            if word:
                return word.group()
    return None


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{" and text[i - 1] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return i
    return None


def _after_phrase(text: str) -> str | None:
    matches = list(_PHRASE.finditer(text))
    for m in reversed(matches):
        rest = text[m.end():]
        math = _MATH.match(rest)
        if math:
            return next(g for g in math.groups() if g is not None).strip()
        end = _SENTENCE_END.search(rest)
        answer = (rest[: end.start()] if end else rest).strip().rstrip(".,;!").strip()
        if answer and re.search(r"[\w\\]", answer):
            return answer
    return None


def _last_value(text: str) -> str | None:
    """The later of the last math segment and the last number."""
    maths = list(_MATH.finditer(text))
    numbers = list(_NUMBER.finditer(text))
    math = maths[-1] if maths else None
    number = numbers[-1] if numbers else None
    if math is not None and (number is None or math.end() >= number.start()):
        return next(g for g in math.groups() if g is not None).strip()
    if number is not None:
        return number.group().strip()
    return None
