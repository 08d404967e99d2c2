"""The answer verifier: does a free-text response's final answer equal the reference?

Fast path first: the same text once cleaned, then exact rationals; sympy only for
radicals, pi and symbols, inside a per-row time bound. Every row gets a ``Verdict``;
one that cannot be judged (no answer found, unreadable LaTeX, too large, too slow)
carries an ``error`` and counts as not correct.
"""

from __future__ import annotations

from dataclasses import dataclass

from herd.plugins.math import normalize
from herd.plugins.math.answers import parse_answer
from herd.plugins.math.equivalence import equivalent
from herd.plugins.math.expression import ParseError, TooLarge
from herd.plugins.math.extract import extract, reference_answer
from herd.plugins.math.timebound import TimeLimit, time_limit


@dataclass(frozen=True)
class Verdict:
    extracted: str | None
    correct: bool
    error: str | None = None


class AnswerVerifier:
    """``timeout_s``: the bound on one row's comparison (0: none)."""

    def __init__(self, timeout_s: float = 2.0):
        self.timeout_s = timeout_s

    def verify(self, reference: str, response: str) -> Verdict:
        found = extract(response)
        if found is None:
            return Verdict(None, False, "no final answer found in the response")
        return self.compare(reference_answer(reference), found)

    def compare(self, reference: str, found: str) -> Verdict:
        """Two answers (no extraction): whether ``found`` has the reference's value."""
        try:
            with time_limit(self.timeout_s):
                return Verdict(found, self._equal(reference, found))
        except _Unreadable as err:
            return Verdict(found, False, str(err))
        except TooLarge as err:
            return Verdict(found, False, f"too large to compare exactly: {err}")
        except TimeLimit:
            return Verdict(found, False, f"comparison took more than {self.timeout_s}s")
        except (ArithmeticError, TypeError, ValueError, RecursionError) as err:
            # sympy's own failures on odd input (a nan, an unsupported operation).
            return Verdict(found, False, f"could not compare: {type(err).__name__}: {err}")

    @staticmethod
    def _equal(reference: str, response: str) -> bool:
        ref = _parse(reference, "reference")
        if normalize.clean(reference) == normalize.clean(response):
            return True
        return equivalent(ref, _parse(response, "response"))


class _Unreadable(Exception):
    pass


def _parse(text: str, what: str):
    try:
        return parse_answer(text)
    except ParseError as err:
        raise _Unreadable(f"{what} answer {text!r} does not parse: {err}") from None
