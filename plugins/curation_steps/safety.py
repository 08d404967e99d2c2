"""Unsafe and adult content: URL/domain block list, adult keyword rules, dirty-word counts.

docs/recipe.md section 1 ("Safety and PII" and "Heuristic filters"): domain block lists and keyword
rules remove unsafe and adult sites; "dirty word" counts catch adult content the block lists
missed. Every list is a plain text file shipped in ``lists/`` and replaceable through config.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from herd.plugins.curation_steps.configs import URLBlocklistConfig, AdultKeywordsConfig, DirtyWordsConfig
from herd.core.errors import ConfigError
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.keywords import KeywordRules
from herd.plugins.curation_steps.text import tokens

LISTS = Path(__file__).parent / "lists"


def read_list(path: Path, what: str) -> list[str]:
    """Non-comment, non-blank lines of a list file; a clear error when it cannot be read."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what}: cannot read list file {path}: {exc}") from exc
    return [line.strip() for line in raw.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def url_host(url: str) -> str:
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


class URLBlocklist:
    """Drops documents whose URL's host is a blocked domain or a sub-domain of one.
    Reason: ``url_blocklist.domain``."""

    name = "url_blocklist"

    def __init__(self, cfg: URLBlocklistConfig | None = None):
        self.cfg = cfg or URLBlocklistConfig()
        path = Path(self.cfg.path) if self.cfg.path else LISTS / "blocked_domains.txt"
        self.domains = frozenset(d.lower().lstrip("*.").rstrip(".") for d in read_list(path, "[filters.url_blocklist] path"))

    def blocked(self, url: str) -> str | None:
        """The blocked domain ``url`` falls under, or ``None``."""
        host = url_host(url)
        parts = host.split(".")
        for i in range(len(parts) - 1):
            candidate = ".".join(parts[i:])
            if candidate in self.domains:
                return candidate
        return None

    def apply(self, doc: Document) -> Document | Drop:
        if not doc.url:
            return doc
        domain = self.blocked(doc.url)
        if domain is None:
            return doc
        return Drop("url_blocklist.domain", f"{url_host(doc.url)} is under blocked domain {domain}")


class AdultKeywords:
    """Reasons: ``adult_keywords.url`` (a rule matches the URL), ``adult_keywords.text``.
    Rules match case-insensitively on word boundaries; see ``keywords.py`` for why this is
    fast."""

    name = "adult_keywords"

    def __init__(self, cfg: AdultKeywordsConfig | None = None):
        self.cfg = cfg or AdultKeywordsConfig()
        path = Path(self.cfg.path) if self.cfg.path else LISTS / "adult_patterns.txt"
        rules = read_list(path, "[filters.adult_keywords] path")
        try:
            self.rules = KeywordRules(rules, r"(?<![^\W_])", r"(?![^\W_])")
            # URLs glue words together with - _ / .; any boundary but a letter counts there
            self.url_rules = KeywordRules([r.replace(" ", "[-_+ ]?") for r in rules], "(?<![a-z])", "(?![a-z])")
        except re.error as exc:
            raise ConfigError(f"{path}: invalid regular expression: {exc}") from exc

    def apply(self, doc: Document) -> Document | Drop:
        if self.cfg.check_url and doc.url:
            hit = self.url_rules.matching(doc.url, limit=1)
            if hit:
                return Drop("adult_keywords.url", f"URL matches {hit[0]!r}")
        matched = self.rules.matching(doc.text, limit=max(1, self.cfg.min_text_matches))
        if len(matched) >= self.cfg.min_text_matches:
            return Drop("adult_keywords.text", f"{len(matched)} adult rules match")
        return doc


class DirtyWords:
    """Drops a document of a language with a list when its dirty words are dense: at least
    ``min_count`` of them and more than ``max_ratio`` of its tokens. Entries marked ``~``
    in a list are context words (clinical, legal, everyday terms) that count only when the
    text also holds an explicit entry, so a court report or a health page does not reach
    the density on "rape" or "penis" alone. Documents in a language without a list pass.
    Reason: ``dirty_words.ratio``; the ratio is kept as ``scores["dirty_words.ratio"]``."""

    name = "dirty_words"

    def __init__(self, cfg: DirtyWordsConfig | None = None):
        self.cfg = cfg or DirtyWordsConfig()
        files = {p.stem: p for p in sorted((LISTS / "dirty_words").glob("*.txt"))}
        files.update({lang: Path(path) for lang, path in self.cfg.lists.items()})
        self.lists = {lang: _DirtyList(read_list(path, f"[filters.dirty_words] lists.{lang}"))
                      for lang, path in files.items()}

    def count(self, text: str, language: str) -> tuple[int, int]:
        """(dirty words, tokens) of ``text`` for ``language``'s list: context words count
        only when an explicit word is present."""
        toks = tokens(text)
        found = self.lists.get(language)
        if found is None:
            return 0, len(toks)
        explicit = found.explicit.hits(toks)
        if not explicit:
            return 0, len(toks)
        return explicit + found.context.hits(toks), len(toks)

    def apply(self, doc: Document) -> Document | Drop:
        lang = (doc.language or self.cfg.default_language).split("-")[0].split("_")[0].lower()
        if lang not in self.lists:
            return doc
        hits, total = self.count(doc.text, lang)
        ratio = hits / total if total else 0.0
        doc.scores["dirty_words.ratio"] = ratio
        if hits >= self.cfg.min_count and ratio > self.cfg.max_ratio:
            return Drop("dirty_words.ratio",
                        f"{hits}/{total} tokens ({ratio:.1%}) are on the {lang} dirty-word list")
        return doc


class _Terms:
    """Words and phrases of a list, counted over a text's tokens."""

    def __init__(self, entries: list[str]):
        self.words = frozenset(e for e in entries if " " not in e)
        self.phrases = [tuple(e.split()) for e in entries if " " in e]

    def hits(self, toks: list[str]) -> int:
        found = sum(map(self.words.__contains__, toks))
        present = set(toks) if self.phrases else set()
        for phrase in self.phrases:
            if not present.issuperset(phrase):
                continue  # cheap test before the scan over every position
            n = len(phrase)
            found += sum(1 for i in range(len(toks) - n + 1) if tuple(toks[i:i + n]) == phrase)
        return found


class _DirtyList:
    def __init__(self, entries: list[str]):
        lowered = [e.lower() for e in entries]
        self.explicit = _Terms([e for e in lowered if not e.startswith("~")])
        self.context = _Terms([e[1:].strip() for e in lowered if e.startswith("~")])
