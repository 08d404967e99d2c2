"""The step checker: re-computes every arithmetic claim it can read in a worked solution.

A claim is ``expression = value`` where the expression has at least one operator and
only numbers (``16 - 3 - 4 = 9 duck eggs``, ``$80,000*1.5=$120,000``, ``20% of 50 is
10``), or a GSM8K calculator annotation ``<<16-3-4=9>>``. Anything with a variable
(``3/2x = 120``, ``x = 5``) is an equation, not a claim, and is left alone, as is any
text the checker cannot read: it must never flag a correct line, so when in doubt it
reads nothing. Values compare exactly; a stated decimal may round the exact value to the
digits it shows (``10/3 = 3.33``), and ``≈`` allows rounding to any shown precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from herd.plugins.math.expression import ParseError, TooLarge, parse, rational


@dataclass(frozen=True)
class Claim:
    expression: str
    stated: str
    computed: str
    correct: bool


@dataclass
class Step:
    index: int
    text: str
    claims: list[Claim] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return all(c.correct for c in self.claims)


@dataclass
class StepCheck:
    steps: list[Step]
    first_wrong_step: int | None

    @property
    def claims(self) -> int:
        return sum(len(s.claims) for s in self.steps)


_ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)>>\s*(\$?\s*-?[\d,]*\.?\d+)?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_WORD_OPS = (
    # "3 times 4, which is 12" and "126 plus 120, so 246 miles" state a result too.
    (r"\s*,\s*(?:which is|which makes|that is|that's|so|giving|for a total of)\b", " ="),
    (r"\bmultiplied by\b", "*"), (r"\bdivided by\b", "/"), (r"\btimes\b", "*"), (r"\bplus\b", "+"),
    (r"\bminus\b", "-"), (r"\b(?:one )?half of\b", "1/2 *"), (r"\ba third of\b", "1/3 *"),
    (r"\ba quarter of\b", "1/4 *"), (r"\btwice\b", "2 *"), (r"\bdouble\b", "2 *"), (r"\btriple\b", "3 *"),
    (r"(?<=\d)\s*% of\b", "% *"), (r"(?<=\d)\s*(/\s*\d+) of\b", r"\1 *"), (r"(?<=\d) percent of\b", "% *"),
)
_EQUALS = re.compile(r"(?<![<>=!])=(?!=)|≈|\b(?:is|are|equals|was|makes)\b")
# What an arithmetic run may hold once words are read as operators.
_RUN_CHARS = set("0123456789.$€£%+-*/^()×÷ x")
_OPERATOR = re.compile(r"(?<=[\d)%])\s*[-+*/^×÷x]\s*(?=[\d($.])")


def check_solution(solution: str | list[str]) -> StepCheck:
    lines = solution if isinstance(solution, list) else solution.split("\n")
    steps = [Step(i, line, check_line(line)) for i, line in enumerate(lines)]
    first = next((s.index for s in steps if not s.correct), None)
    return StepCheck(steps, first)


def check_line(line: str) -> list[Claim]:
    claims = [_annotation_claim(m) for m in _ANNOTATION.finditer(line)]
    visible = _ANNOTATION.sub(lambda m: m.group(3) or "", line)
    return [c for c in claims if c is not None] + _text_claims(visible)


def _annotation_claim(m: re.Match) -> Claim | None:
    expression, stated, shown = m.group(1), m.group(2).strip(), m.group(3)
    computed = _value(expression)
    value = _value(stated)
    if computed is None or value is None:
        return None
    correct = _matches(computed, stated, value, approximate=False)
    if correct and shown is not None:
        # The text after the annotation repeats the result: a different number is an error too.
        shown_value = _value(shown)
        correct = shown_value is None or shown_value == value
    return Claim(expression.strip(), stated, _show(computed), correct)


def _text_claims(line: str) -> list[Claim]:
    text = _THOUSANDS.sub("", line)
    for pattern, op in _WORD_OPS:
        text = re.sub(pattern, op, text, flags=re.I)
    marks = list(_EQUALS.finditer(text))
    claims = []
    for i, mark in enumerate(marks):
        left_start = marks[i - 1].end() if i else 0
        right_end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        lhs = _tail_run(text, left_start, mark.start())
        rhs = _head_run(text, mark.end(), right_end)
        if lhs is None or rhs is None or not _OPERATOR.search(lhs):
            continue
        claim = _claim(lhs, rhs, approximate=mark.group() == "≈")
        if claim is not None:
            claims.append(claim)
    return claims


def _tail_run(text: str, start: int, end: int) -> str | None:
    """The arithmetic right before ``end`` (back to the first word), or ``None`` when a
    word sits inside it (an equation such as ``3/2x``, or units between numbers)."""
    i = end
    while i > start and (text[i - 1] in _RUN_CHARS and not _is_variable_x(text, i - 1)):
        i -= 1
    run = text[i:end].strip()
    if i > start and text[i - 1].isalnum() and run and not text[i:end].startswith(" "):
        return None  # glued to a word: "x2 + 3", "3/2x"
    run = run.lstrip("(") if run.count("(") > run.count(")") else run
    if not run or run[0] in "*/^×÷x+" or run[-1] not in "0123456789)%.":
        return None
    if run[0] == "-" and i > start and text[:i].rstrip()[-1:].isalnum():
        return None  # "costs 5 - 3 = 2" is fine, but "apples - 3 = ..." reads a word as a number
    return run


def _head_run(text: str, start: int, end: int) -> str | None:
    i = start
    while i < end and text[i] in _RUN_CHARS and not _is_variable_x(text, i):
        i += 1
    run = text[start:i].strip().rstrip(".")
    if i < end and text[i].isalpha() and i > start and text[i - 1] not in " $":
        return None  # "= 5x": a variable, not a value
    run = run.rstrip("(").rstrip(" +-*/^×÷x")
    if run.count(")") > run.count("("):
        run = run.rstrip(")")
    return run or None


def _is_variable_x(text: str, i: int) -> bool:
    """``x`` is a multiplication sign between spaced numbers ("3 x 4"), else a variable."""
    if text[i] != "x":
        return False
    before = text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    return not (before == " " and after == " ")


def _claim(lhs: str, rhs: str, approximate: bool) -> Claim | None:
    computed = _value(lhs)
    value = _value(rhs)
    if computed is None or value is None:
        return None
    correct = _matches(computed, rhs, value, approximate)
    if not correct and _OPERATOR.search(rhs):
        # A running computation, "2 + 3 = 5 + 1 = 6": the result leads the next expression.
        first = re.match(r"[$€£]?\s*\d+(?:\.\d+)?%?", rhs.lstrip("("))
        lead = _value(first.group()) if first else None
        correct = lead is not None and _matches(computed, first.group(), lead, approximate)
    return Claim(lhs, rhs, _show(computed), correct)


def _value(text: str) -> Fraction | None:
    s = text.replace("$", "").replace("€", "").replace("£", "").replace(",", "")
    s = s.replace("×", "*").replace("÷", "/").replace(" x ", " * ")
    s = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", s)
    if not re.search(r"\d", s) or re.search(r"[a-zA-Z]", s):
        return None
    try:
        return rational(parse(s))
    except (ParseError, TooLarge, ZeroDivisionError):
        return None


def _matches(computed: Fraction, stated: str, value: Fraction, approximate: bool) -> bool:
    candidates = [value]
    if "%" in stated:
        candidates.append(value * 100)  # "8/20 * 100 = 40%"
    if any(computed == v for v in candidates):
        return True
    digits = _decimals(stated)
    if digits == 0 and not approximate:
        return False
    tolerance = Fraction(1, 2 * 10**digits)
    return any(abs(computed - v) <= tolerance for v in candidates)


def _decimals(stated: str) -> int:
    m = re.search(r"\.(\d+)", stated)
    return len(m.group(1)) if m else 0


def _show(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"
