"""Gopher-style heuristic filters and a plain length filter.

Thresholds are the ones of Rae et al. 2021 ("Scaling Language Models: Methods, Analysis &
Insights from Training Gopher"), appendix A, table A1 and section A.1.1 — the same defaults
datatrove's ``GopherRepetitionFilter`` / ``GopherQualityFilter`` use. RECIPE.md section 1 asks
for "duplicated n-gram coverage ratio" filters; these are them.
"""

from __future__ import annotations

import re

import numpy as np

from herd.plugins.curation_steps.configs import GopherRepetitionConfig, GopherQualityConfig, LengthConfig
from herd.core.records import Document, Drop

_LINE_SPLIT = re.compile(r"\n+")
_PARA_SPLIT = re.compile(r"\n{2,}")
_MULT = np.uint64(0x9E3779B97F4A7C15)


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(number of repeated items, characters in repeated items); first occurrences don't count."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


class GopherRepetition:
    """Drops documents whose lines, paragraphs or word n-grams repeat too much (logs, spam,
    boilerplate). N-gram statistics are computed with vectorised rolling hashes over word ids
    instead of joining strings, which is what makes this step several times faster than a
    string-based implementation. Reasons: ``gopher_repetition.<rule>``."""

    name = "gopher_repetition"

    def __init__(self, cfg: GopherRepetitionConfig | None = None):
        self.cfg = cfg or GopherRepetitionConfig()
        self.top = sorted((int(n), float(f)) for n, f in self.cfg.top_ngrams.items())
        self.dup = sorted((int(n), float(f)) for n, f in self.cfg.dup_ngrams.items())

    def apply(self, doc: Document) -> Document | Drop:
        reason = self.check(doc.text)
        return doc if reason is None else Drop(f"{self.name}.{reason[0]}", reason[1])

    def check(self, text: str) -> tuple[str, str] | None:
        """Return ``(rule, detail)`` of the first rule the text breaks, or ``None``."""
        text_len = len(text)
        if not text.strip():
            return ("empty", "no text")
        cfg = self.cfg
        paras = _PARA_SPLIT.split(text.strip())
        n_dup, dup_chars = _duplicates(paras)
        if n_dup / len(paras) > cfg.dup_para_frac:
            return ("dup_para_frac", f"{n_dup}/{len(paras)} paragraphs repeated")
        if dup_chars / text_len > cfg.dup_para_char_frac:
            return ("dup_para_char_frac", f"{dup_chars}/{text_len} chars in repeated paragraphs")
        lines = _LINE_SPLIT.split(text)
        n_dup, dup_chars = _duplicates(lines)
        if n_dup / len(lines) > cfg.dup_line_frac:
            return ("dup_line_frac", f"{n_dup}/{len(lines)} lines repeated")
        if dup_chars / text_len > cfg.dup_line_char_frac:
            return ("dup_line_char_frac", f"{dup_chars}/{text_len} chars in repeated lines")
        words = text.split()
        if len(words) < 2:
            return None
        return self._check_ngrams(words, text_len)

    def _check_ngrams(self, words: list[str], text_len: int) -> tuple[str, str] | None:
        # Python's str hash is salted per process, which is fine here: ids only need to be
        # equal for equal words within one document.
        ids = np.fromiter(map(hash, words), np.int64, len(words)).view(np.uint64)
        word_len = np.fromiter(map(len, words), np.int64, len(words))
        n_words = len(words)
        rolling = ids.copy()
        max_n = max([n for n, _ in self.top + self.dup] or [1])
        top = dict(self.top)
        dup = dict(self.dup)
        with np.errstate(over="ignore"):
            for n in range(2, max_n + 1):
                if n > n_words:
                    break
                # hash of the n-gram starting at i: h_{n}[i] = h_{n-1}[i] * M + id[i+n-1]
                rolling = rolling[:-1] * _MULT + ids[n - 1:]
                if n in top:
                    _, counts = np.unique(rolling, return_counts=True)
                    best = counts.argmax()
                    if counts[best] > 1:
                        starts = np.flatnonzero(rolling == _[best])
                        gram_chars = int(word_len[starts[0]:starts[0] + n].sum()) + n - 1
                        frac = gram_chars * int(counts[best]) / text_len
                        if frac > top[n]:
                            return (f"top_{n}gram", f"most frequent {n}-gram covers {frac:.2f} of chars")
                if n in dup:
                    frac = self._dup_coverage(rolling, word_len, n) / text_len
                    if frac > dup[n]:
                        return (f"dup_{n}gram", f"repeated {n}-grams cover {frac:.2f} of chars")
        return None

    @staticmethod
    def _dup_coverage(grams: np.ndarray, word_len: np.ndarray, n: int) -> int:
        """Characters of the words covered by n-grams that occurred earlier in the text."""
        _, first, inverse = np.unique(grams, return_index=True, return_inverse=True)
        repeated = np.flatnonzero(first[inverse] < np.arange(len(grams)))
        if not len(repeated):
            return 0
        marks = np.zeros(len(word_len) + 1, np.int64)
        np.add.at(marks, repeated, 1)
        np.add.at(marks, repeated + n, -1)
        covered = np.cumsum(marks[:-1]) > 0
        return int(word_len[covered].sum())


_BULLETS = ("•", "-", "*", "‣", "◦", "⁃")
_PUNCT_WORD = re.compile(r"(?<!\S)[^\w\s]+(?!\S)")  # a whitespace word without letters or digits
_ALPHA_WORD = re.compile(r"\S*[^\W\d_]\S*")  # a whitespace word with at least one letter


class GopherQuality:
    """Gopher's quality heuristics. Reasons: ``gopher_quality.<rule>``."""

    name = "gopher_quality"

    def __init__(self, cfg: GopherQualityConfig | None = None):
        self.cfg = cfg or GopherQualityConfig()
        self.stop_words = frozenset(self.cfg.stop_words)

    def apply(self, doc: Document) -> Document | Drop:
        reason = self.check(doc.text, doc.language)
        return doc if reason is None else Drop(f"{self.name}.{reason[0]}", reason[1])

    def check(self, text: str, language: str | None = None) -> tuple[str, str] | None:
        cfg = self.cfg
        words = text.split()
        n = len(words)
        if n < cfg.min_words:
            return ("too_few_words", f"{n} < {cfg.min_words} words")
        if n > cfg.max_words:
            return ("too_many_words", f"{n} > {cfg.max_words} words")
        # words made only of punctuation do not count towards the mean word length
        punct_only = _PUNCT_WORD.findall(text)
        n_content = n - len(punct_only)
        mean_len = (sum(map(len, words)) - sum(map(len, punct_only))) / max(1, n_content)
        if mean_len < cfg.min_mean_word_length:
            return ("short_words", f"mean word length {mean_len:.1f}")
        if mean_len > cfg.max_mean_word_length:
            return ("long_words", f"mean word length {mean_len:.1f}")
        symbols = text.count("#") + text.count("...") + text.count("…")
        if symbols / n > cfg.max_symbol_word_ratio:
            return ("symbol_ratio", f"{symbols} hash/ellipsis symbols for {n} words")
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        if lines:
            bullets = sum(line.startswith(_BULLETS) for line in lines)
            if bullets / len(lines) > cfg.max_bullet_lines_ratio:
                return ("bullet_lines", f"{bullets}/{len(lines)} lines start with a bullet")
            ellipsis = sum(line.endswith(("...", "…")) for line in lines)
            if ellipsis / len(lines) > cfg.max_ellipsis_lines_ratio:
                return ("ellipsis_lines", f"{ellipsis}/{len(lines)} lines end with an ellipsis")
        alpha = len(_ALPHA_WORD.findall(text))
        if alpha / n < cfg.min_alpha_words_ratio:
            return ("alpha_ratio", f"only {alpha}/{n} words contain a letter")
        if language is None or language in cfg.stop_word_languages:
            found = sum(map(self.stop_words.__contains__, text.lower().split()))
            if found < cfg.min_stop_words:
                return ("stop_words", f"{found} stop words < {cfg.min_stop_words}")
        return None


class Length:
    """Reasons: ``length.too_short``, ``length.too_long``, ``length.too_few_words``."""

    name = "length"

    def __init__(self, cfg: LengthConfig | None = None):
        self.cfg = cfg or LengthConfig()

    def apply(self, doc: Document) -> Document | Drop:
        size = len(doc.text)
        if size > self.cfg.max_chars:
            return Drop("length.too_long", f"{size} > {self.cfg.max_chars} chars")
        if size < self.cfg.min_chars:
            return Drop("length.too_short", f"{size} < {self.cfg.min_chars} chars")
        n_words = len(doc.text.split())
        if n_words < self.cfg.min_words:
            return Drop("length.too_few_words", f"{n_words} < {self.cfg.min_words} words")
        return doc
