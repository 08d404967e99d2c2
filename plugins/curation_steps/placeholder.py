"""Placeholder text: C4's rule (Raffel et al. 2020, section 2.2) drops every page holding
"lorem ipsum", the filler of unfinished templates. Its Latin-looking words pass the other
rules: language ID calls it Italian or Spanish at low confidence, and its words have the
length and the stop words ("in", "et") of real text."""

from __future__ import annotations

import re

from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import PlaceholderTextConfig


class PlaceholderText:
    """Reason: ``placeholder_text.<phrase>`` (spaces as ``_``)."""

    name = "placeholder_text"

    def __init__(self, cfg: PlaceholderTextConfig | None = None):
        self.cfg = cfg or PlaceholderTextConfig()
        self.phrases = [p.lower() for p in self.cfg.phrases]
        self.pattern = re.compile("|".join(re.escape(p) for p in self.phrases), re.IGNORECASE) if self.phrases else None

    def apply(self, doc: Document) -> Document | Drop:
        if self.pattern is None:
            return doc
        found = self.pattern.search(doc.text)
        if found is None:
            return doc
        phrase = found.group(0).lower()
        return Drop(f"{self.name}.{phrase.replace(' ', '_')}", f"the text holds placeholder text {phrase!r}")
