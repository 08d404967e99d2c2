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
from herd.plugins.judges.config import LanguageConfig

_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|^(?: {4}|\t).*$|^\s*(?:def|class|return|import)\b.*$",
                   re.DOTALL | re.MULTILINE)
_URL = re.compile(r"https?://\S+|www\.\S+")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def prose(text: str) -> str:
    return " ".join(_URL.sub(" ", _CODE.sub(" ", text)).split())


class LanguageJudge:
    """Signal ``confidence``: lingua's confidence in the row's language (``None`` with the
    reason when the row has no prose to read). Sets ``row.language``: the declared one
    when it is one of ``languages``, else the identified one, else ``fallback``. Never drops."""

    def __init__(self, cfg: LanguageConfig | None = None, services: Services | None = None, name: str = "language"):
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        self.cfg = cfg or LanguageConfig()
        self.name = name
        codes = []
        for code in self.cfg.languages:
            try:
                codes.append(IsoCode639_1.from_str(code.lower()))
            except ValueError:
                raise ConfigError(f"[judges.{name}] languages: lingua does not know {code!r} (use ISO 639-1 codes)") from None
        if len(codes) < 2:
            raise ConfigError(f"[judges.{name}] languages needs at least two languages to choose from")
        self.languages = {code.lower() for code in self.cfg.languages}
        self.detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        texts = [prose(" ".join(m.content for m in row.messages if m.role in ("user", "assistant")))[: self.cfg.max_chars]
                 for row in rows]
        readable = [i for i, text in enumerate(texts) if len(_LETTER.findall(text)) >= self.cfg.min_letters]
        ranked = self.detector.compute_language_confidence_values_in_parallel([texts[i] for i in readable])
        found = {i: [(v.language.iso_code_639_1.name.lower(), float(v.value)) for v in values]
                 for i, values in zip(readable, ranked)}
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
