"""Per-language pretraining filters (docs/recipe.md section 1: per-language heuristics and
"dirty word" counts). Both read ``doc.language``, which ``language_id`` sets earlier in the
curation pipeline."""

from __future__ import annotations

import re
from pathlib import Path

from herd.core.errors import ConfigError, InputError
from herd.core.records import Document, Drop
from herd.plugins.multilingual.config import DirtyWordsConfig, LanguageQualityConfig, ScriptHeuristicsConfig
from herd.lib.language.units import NO_SPACE_LANGUAGES, count_words, normalize, script_ratio

DATA = Path(__file__).resolve().parent / "data"


def read_word_list(path: Path) -> list[str]:
    """One word or phrase a line; ``#`` starts a comment line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"dirty-word list {path} cannot be read: {exc}") from None
    return [normalize(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def shipped_lists() -> dict[str, Path]:
    return {p.stem: p for p in sorted((DATA / "dirty_words").glob("*.txt"))}


class DirtyWords:
    """Drops a document whose dirty-word count is at least ``min_hits`` and whose ratio to
    its word count is above ``max_ratio``. Words match whole words (or whole phrases) in
    space-separated languages and as substrings in Chinese, Japanese, Thai. A document
    with no language is checked against every list."""

    name = "multilingual_dirty_words"

    def __init__(self, cfg: DirtyWordsConfig | None = None):
        self.cfg = cfg or DirtyWordsConfig()
        paths = {**shipped_lists(), **{lang: Path(p) for lang, p in self.cfg.lists.items()}}
        self.lists = {lang: read_word_list(path) for lang, path in paths.items()}
        self._patterns = {lang: self._pattern(lang, words) for lang, words in self.lists.items() if words}

    @staticmethod
    def _pattern(language: str, words: list[str]) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        if language in NO_SPACE_LANGUAGES:
            return re.compile(alternatives)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def hits(self, text: str, language: str | None) -> int:
        norm = normalize(text)
        patterns = [self._patterns[language]] if language in self._patterns else (
            list(self._patterns.values()) if language is None else []
        )
        return max((len(p.findall(norm)) for p in patterns), default=0)

    def apply(self, doc: Document) -> Document | Drop:
        hits = self.hits(doc.text, doc.language)
        words = max(count_words(doc.text, doc.language), 1.0)
        ratio = hits / words
        doc.scores[f"{self.name}.ratio"] = ratio
        if hits >= self.cfg.min_hits and ratio > self.cfg.max_ratio:
            return Drop(f"{self.name}.too_many", f"{hits} dirty words in {words:.0f} words ({doc.language or 'any'} list)")
        return doc


class ScriptHeuristics:
    """Length, symbol and script-purity checks for languages whose words are counted by
    characters (``languages``, default zh, ja, th); other languages pass untouched, since
    the English-tuned Gopher rules already cover them."""

    name = "script_heuristics"

    def __init__(self, cfg: ScriptHeuristicsConfig | None = None):
        self.cfg = cfg or ScriptHeuristicsConfig()
        self.languages = set(self.cfg.languages)

    def apply(self, doc: Document) -> Document | Drop:
        if doc.language not in self.languages:
            return doc
        words = count_words(doc.text, doc.language, self.cfg.chars_per_word)
        doc.scores[f"{self.name}.words"] = words
        if words < self.cfg.min_words:
            return Drop(f"{self.name}.too_short", f"{words:.0f} words < {self.cfg.min_words} ({doc.language})")
        if words > self.cfg.max_words:
            return Drop(f"{self.name}.too_long", f"{words:.0f} words > {self.cfg.max_words} ({doc.language})")
        symbols = doc.text.count("#") + doc.text.count("...") + doc.text.count("…")
        if symbols / words > self.cfg.max_symbol_ratio:
            return Drop(f"{self.name}.symbols", f"{symbols} '#'/ellipsis in {words:.0f} words")
        ratio = script_ratio(doc.text, doc.language, self.cfg.chars_per_word)
        if ratio is not None:
            doc.scores[f"{self.name}.script_ratio"] = ratio
            if ratio < self.cfg.min_script_ratio:
                return Drop(f"{self.name}.wrong_script",
                            f"only {ratio:.0%} of the words in the {doc.language} script")
        return doc


class LanguageQuality:
    """Drops a document whose language has a quality classifier and whose probability of
    ``positive_label`` is below ``min_score``; stores ``language_quality.score``."""

    name = "language_quality"

    def __init__(self, cfg: LanguageQualityConfig | None = None):
        self.cfg = cfg or LanguageQualityConfig()
        if not self.cfg.models:
            raise ConfigError("[filters.language_quality] models is empty: map languages to fastText model files")
        import fasttext

        self.models = {}
        for language, path in self.cfg.models.items():
            if not Path(path).is_file():
                raise InputError(f"[filters.language_quality] model for '{language}' not found: {path}")
            self.models[language] = fasttext.load_model(str(path))

    def apply(self, doc: Document) -> Document | Drop:
        model = self.models.get(doc.language)
        if model is None:
            return doc
        from herd.lib.language.detect import fasttext_predict

        score = next((p for label, p in fasttext_predict(model, doc.text) if label == self.cfg.positive_label), 0.0)
        doc.scores[f"{self.name}.score"] = score
        if score < self.cfg.min_score:
            return Drop(f"{self.name}.low_quality", f"{doc.language} quality {score:.3f} < {self.cfg.min_score}")
        return doc
