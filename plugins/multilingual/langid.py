"""Language labels on SFT rows. The detector itself lives in ``herd.lib.language`` (curation
labels every document with it too); this module applies it to conversations."""

from __future__ import annotations

from herd.core.protocols import Score
from herd.core.records import SFTRow
from herd.lib.language.detect import LanguageIdentifier, prose
from herd.plugins.multilingual.config import LanguageIdConfig


def label_rows(rows: list[SFTRow], identifier: LanguageIdentifier, overwrite: bool = False) -> list[SFTRow]:
    """Give every SFT row a ``language`` and ``scores["language_id.confidence"]``, from LID
    of its user turns. A row that already declares a language keeps it (unless
    ``overwrite``) and gets the confidence LID gives to that language, so a low value
    flags a row whose declared language its text does not support."""
    texts = [prose("\n".join(m.content for m in row.messages if m.role == "user")) for row in rows]
    for row, found in zip(rows, identifier.detect_many(texts)):
        if overwrite or row.language is None:
            row.language = found.language
            row.scores["language_id.confidence"] = found.confidence
        else:
            row.scores["language_id.confidence"] = found.confidence_of(row.language)
    return rows


class LanguageLabel:
    """Judge form of ``label_rows`` for the SFT funnel (``[sft_funnel] funnel``): sets
    ``row.language`` and gives one signal, ``confidence``, with the language as reason.
    It never drops a row."""

    def __init__(self, cfg: LanguageIdConfig | None = None, services=None, name: str = "language_id"):
        self.cfg = cfg or LanguageIdConfig()
        self.name = name
        self.identifier = LanguageIdentifier(self.cfg.lid)

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        label_rows(rows, self.identifier)
        return [[Score(self.name, "confidence", row.scores["language_id.confidence"], f"language {row.language}")]
                for row in rows]
