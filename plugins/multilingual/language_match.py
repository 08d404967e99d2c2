"""The language-match verifier (docs/recipe.md section 6, multilingual): a response must be in
the language the prompt asks for — the prompt's own language, or the row's
``metadata["target_language"]`` for translation requests. A response in another language
is rejected with that reason."""

from __future__ import annotations

from herd.core.protocols import Score
from herd.core.records import SFTRow
from herd.plugins.multilingual.config import LanguageMatchConfig
from herd.lib.language.detect import LanguageIdentifier, prose
from herd.lib.language.units import NO_SPACE_CHAR, units


def expected_language(row: SFTRow, identifier: LanguageIdentifier) -> str | None:
    target = row.metadata.get("target_language")
    if target:
        return str(target)
    if row.language:
        return row.language
    prompt = "\n".join(m.content for m in row.messages if m.role == "user")
    return identifier.detect(prose(prompt)).language


def distinct_words(text: str) -> int:
    """Distinct words of two or more letters, or single characters of no-space scripts."""
    return len({u.lower() for u in units(text) if len(u) >= 2 or NO_SPACE_CHAR.fullmatch(u)} - {""})


def _response(row: SFTRow) -> str:
    for message in reversed(row.messages):
        if message.role == "assistant":
            return message.content
    return ""


class LanguageMatch:
    """One signal, ``pass``: 0 when the response is in another language than the prompt
    asks for (the reason names both and the detected language's confidence), 1 when it is
    in that language, and ``None`` (not applicable, with the reason) when either language
    cannot be identified — too few letters (numbers, code), or no configured language fits.

    It is a verifier, and post-training counts every non-``None`` signal of a verifier as
    a verdict (positive passes), so the judge gives no other signal: a confidence of 0.0
    would fail a sample and any positive one would "verify" a sample the check does not
    apply to."""

    def __init__(self, cfg: LanguageMatchConfig | None = None, services=None, name: str = "language_match",
                 identifier: LanguageIdentifier | None = None):
        self.cfg = cfg or LanguageMatchConfig()
        self.name = name
        self.identifier = identifier or LanguageIdentifier(self.cfg.lid)

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        responses = [prose(_response(row)) for row in rows]
        found = self.identifier.detect_many(responses)
        return [[self._verdict(row, text, det)] for row, text, det in zip(rows, responses, found)]

    def _verdict(self, row: SFTRow, text: str, det) -> Score:
        expected = expected_language(row, self.identifier)
        # A character of a no-space script (Chinese, Japanese, Thai) is about a word: 3 letters.
        letters = sum(ch.isalpha() for ch in text) + 2 * len(NO_SPACE_CHAR.findall(text))
        if expected is None:
            return Score(self.name, "pass", None, "the prompt's language could not be identified")
        if letters < self.cfg.min_letters:
            return Score(self.name, "pass", None, f"response too short to identify ({letters} letters)")
        distinct = distinct_words(text)
        if distinct < self.cfg.min_distinct_words:
            return Score(self.name, "pass", None, f"response has too few distinct words to identify ({distinct})")
        if det.language is None or det.confidence < self.cfg.min_confidence:
            return Score(self.name, "pass", None,
                         f"response language not identified (best guess confidence {det.confidence:.2f})")
        if det.language == expected:
            return Score(self.name, "pass", 1.0)
        if det.confidence_of(expected) >= self.cfg.runner_up_ratio * det.confidence:
            return Score(self.name, "pass", 1.0, f"response language uncertain ('{det.language}' or '{expected}')")
        return Score(self.name, "pass", 0.0,
                     f"wrong_language: response is in '{det.language}' ({det.confidence:.2f}) "
                     f"but the prompt asks for '{expected}'")
