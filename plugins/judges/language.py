"""Language of each SFT row (docs/recipe.md section 5: the funnel labels every row; section 6:
multilingual data is kept per language). lingua, whose models ship inside its package,
restricted to the configured languages, reads the row's prose: code blocks, URLs and
digits say nothing about the natural language and are removed first."""

from __future__ import annotations

import re

from herd.core.errors import ConfigError
from herd.core.protocols import Score
from herd.core.records import SFTRow
from herd.core.services import Services
from herd.lib.language.detect import LanguageIdentifier, prose
from herd.lib.language.settings import LidSettings
from herd.plugins.judges.config import LanguageConfig

# Code lines outside fences (indented blocks, statements) say nothing about the language.
_CODE_LINES = re.compile(r"^(?: {4}|\t).*$|^\s*(?:def|class|return|import)\b.*$", re.MULTILINE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


class LanguageJudge:
    """Signal ``confidence``: the detector's confidence in the row's language (``None``
    with the reason when the row has no prose to read). Sets ``row.language``: the declared
    one when it is one of ``languages``, else the identified one, else ``fallback``. Never
    drops. The detector is herd's one language identifier (``herd.lib.language``)."""

    def __init__(self, cfg: LanguageConfig | None = None, services: Services | None = None, name: str = "language"):
        self.cfg = cfg or LanguageConfig()
        self.name = name
        if len(self.cfg.languages) < 2:
            raise ConfigError(f"[judges.{name}] languages needs at least two languages to choose from")
        self.languages = {code.lower() for code in self.cfg.languages}
        try:
            self.detector = LanguageIdentifier(LidSettings(languages=list(self.cfg.languages),
                                                           max_chars=self.cfg.max_chars))
        except ConfigError as exc:
            raise ConfigError(f"[judges.{name}] languages: {exc}") from None

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        texts = [" ".join(prose(_CODE_LINES.sub(" ", " ".join(m.content for m in row.messages
                                                             if m.role in ("user", "assistant")))).split())
                 for row in rows]
        readable = [i for i, text in enumerate(texts) if len(_LETTER.findall(text)) >= self.cfg.min_letters]
        detections = self.detector.detect_many([texts[i] for i in readable])
        found = {i: list(d.ranked) for i, d in zip(readable, detections)}
        out = []
        for i, row in enumerate(rows):
            candidates = found.get(i) or []
            if not candidates or candidates[0][1] <= 0:
                declared = row.language in self.languages
                reason = f"no prose to identify; language {row.language if declared else self.cfg.fallback!r} " + (
                    "as declared" if declared else "by the fallback")
                row.language = row.language if declared else self.cfg.fallback
                out.append([Score(self.name, "confidence", None, reason)])
                continue
            if row.language in self.languages:  # declared by its source: kept, with how much the text agrees
                value = next((c for code, c in candidates if code == row.language), 0.0)
                out.append([Score(self.name, "confidence", value, f"declared {row.language!r}")])
                continue
            # A declared value that is not a natural language (code rows say "python") is replaced.
            note = f"declared {row.language!r} is not one of the languages; identified" if row.language else ""
            row.language, value = candidates[0]
            out.append([Score(self.name, "confidence", value, note)])
        return out
