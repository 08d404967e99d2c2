"""The ``language_id`` step: every document gets its language and the detector's confidence
right after extraction (docs/recipe.md section 1: language identification comes first, and
the English heuristics then run on English only). It drops nothing unless asked to."""

from __future__ import annotations

from herd.core.records import Document, Drop
from herd.lib.language.detect import LanguageIdentifier, prose
from herd.plugins.curation_steps.configs import LanguageIdConfig


class LanguageIdFilter:
    """Sets ``doc.language`` (ISO 639-1, or ``None`` when no configured language fits the
    text) and ``doc.scores["language_id.confidence"]``. Reasons: ``language_id.unknown``,
    ``language_id.low_confidence``, ``language_id.unwanted_language`` (only with
    ``min_confidence`` or ``keep_languages`` set)."""

    name = "language_id"

    def __init__(self, cfg: LanguageIdConfig | None = None):
        self.cfg = cfg or LanguageIdConfig()
        self.identifier = LanguageIdentifier(self.cfg.lid)
        self.keep = set(self.cfg.keep_languages)

    def apply(self, doc: Document) -> Document | Drop:
        found = self.identifier.detect(prose(doc.text))
        doc.language = found.language
        doc.scores["language_id.confidence"] = found.confidence
        if found.language is None:
            if self.cfg.min_confidence > 0 or self.keep:
                return Drop("language_id.unknown", "no configured language fits the text")
            return doc
        if found.confidence < self.cfg.min_confidence:
            return Drop("language_id.low_confidence",
                        f"{found.language} at {found.confidence:.3f} < {self.cfg.min_confidence}")
        if self.keep and found.language not in self.keep:
            return Drop("language_id.unwanted_language", f"{found.language} not in {sorted(self.keep)}")
        return doc
