"""Gopher-style heuristic filters and a plain length filter.

Thresholds are the ones of Rae et al. 2021 ("Scaling Language Models: Methods, Analysis &
Insights from Training Gopher"), appendix A, table A1 and section A.1.1 — the same defaults
datatrove's ``GopherRepetitionFilter`` / ``GopherQualityFilter`` use. docs/recipe.md section 1 asks
for "duplicated n-gram coverage ratio" filters; these are them.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from herd.plugins.curation_steps.configs import GopherRepetitionConfig, GopherQualityConfig, LengthConfig
from herd.core.records import Document, Drop
from herd.lib.language.stopwords import FUNCTION_CHARACTERS, FUNCTION_SUFFIXES, stop_words, strip_punctuation
from herd.lib.language.units import NO_SPACE_LANGUAGES, count_words, units
from herd.plugins.curation_steps.text import span_hashes

_MULT = np.uint64(0x9E3779B97F4A7C15)


def _lines(text: str) -> list[str]:
    """``re.split(r"\\n+", text)`` (an empty first/last item when the text starts/ends with a
    newline), with ``str.split``: several times faster."""
    if not text:
        return [""]
    items = [line for line in text.split("\n") if line]
    if text[0] == "\n":
        items.insert(0, "")
    if text[-1] == "\n":
        items.append("")
    return items


def _paragraphs(text: str) -> list[str]:
    """``re.split(r"\\n{2,}", text)`` for a stripped text, with ``str.split``: an odd run of
    newlines leaves one at the start of the next piece, an even one empty pieces."""
    return [p[1:] if p[:1] == "\n" else p for p in text.split("\n\n") if p]


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


def word_hashes(words: list[str]) -> np.ndarray:
    """A stable 64-bit hash of every word (the same in every process: ``hash()`` is salted per
    process, and a tie between n-grams must not be broken differently from run to run)."""
    data = " ".join(words).encode("utf-8", "surrogatepass")  # words hold no whitespace
    raw = np.frombuffer(data, np.uint8)
    spaces = np.flatnonzero(raw == 0x20)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [len(raw)]))
    return span_hashes(raw, starts, ends)


class GopherRepetition:
    """Drops documents whose lines, paragraphs or word n-grams repeat too much (logs, spam,
    boilerplate). N-gram statistics are computed with vectorised rolling hashes over stable
    word hashes instead of joining strings. Among equally frequent n-grams the "most frequent"
    one is the one that occurs first (as with datatrove's ``Counter.most_common``).
    Reasons: ``gopher_repetition.<rule>``."""

    name = "gopher_repetition"

    def __init__(self, cfg: GopherRepetitionConfig | None = None):
        self.cfg = cfg or GopherRepetitionConfig()
        self.top = sorted((int(n), float(f)) for n, f in self.cfg.top_ngrams.items())
        self.dup = sorted((int(n), float(f)) for n, f in self.cfg.dup_ngrams.items())
        self.no_ngrams = frozenset(self.cfg.ngram_skip_languages)

    def apply(self, doc: Document) -> Document | Drop:
        reason = self.check(doc.text, doc.language)
        return doc if reason is None else Drop(f"{self.name}.{reason[0]}", reason[1])

    def check(self, text: str, language: str | None = None) -> tuple[str, str] | None:
        """Return ``(rule, detail)`` of the first rule the text breaks, or ``None``."""
        text_len = len(text)
        if not text.strip():
            return ("empty", "no text")
        cfg = self.cfg
        paras = _paragraphs(text.strip())
        n_dup, dup_chars = _duplicates(paras)
        if n_dup / len(paras) > cfg.dup_para_frac:
            return ("dup_para_frac", f"{n_dup}/{len(paras)} paragraphs repeated")
        if dup_chars / text_len > cfg.dup_para_char_frac:
            return ("dup_para_char_frac", f"{dup_chars}/{text_len} chars in repeated paragraphs")
        lines = _lines(text)
        n_dup, dup_chars = _duplicates(lines)
        if n_dup / len(lines) > cfg.dup_line_frac:
            return ("dup_line_frac", f"{n_dup}/{len(lines)} lines repeated")
        if dup_chars / text_len > cfg.dup_line_char_frac:
            return ("dup_line_char_frac", f"{dup_chars}/{text_len} chars in repeated lines")
        if language in self.no_ngrams:
            return None
        broken = self._ngram_rules(text)
        if broken is None:
            return None
        # checked again without its quote lines: layout that repeats a sentence once does
        # not make a page repetitive (the common case pays nothing for this)
        unquoted = self._without_quotes(text)
        return broken if unquoted is text else self._ngram_rules(unquoted)

    def _ngram_rules(self, text: str) -> tuple[str, str] | None:
        words = text.split()
        if len(words) < 2:
            return None
        return self._check_ngrams(words, len(text))

    def _without_quotes(self, text: str) -> str:
        """``text`` without the lines that repeat a piece of a longer line: a pull quote, a
        teaser, a caption quoting the body. Page layout repeats them once; in a short
        article one such quote covers a tenth of the characters and would trip the 10-gram
        rule alone. Lines repeated whole (spam, logs) stay and are counted."""
        cfg = self.cfg
        if not cfg.quote_min_words or len(text) > cfg.quote_max_chars:
            return text
        lines = text.split("\n")
        whole = Counter(line.strip() for line in lines)
        kept = [line for line in lines
                if len(line.split()) < cfg.quote_min_words or text.count(line.strip()) <= whole[line.strip()]]
        return text if len(kept) == len(lines) else "\n".join(kept)

    def _check_ngrams(self, words: list[str], text_len: int) -> tuple[str, str] | None:
        ids = word_hashes(words)
        word_len = np.fromiter(map(len, words), np.int64, len(words))
        n_words = len(words)
        rolling = ids
        top = dict(self.top)
        dup = dict(self.dup)
        max_n = max([*top, *dup, 1])
        with np.errstate(over="ignore"):
            for n in range(2, max_n + 1):
                if n > n_words:
                    break
                # hash of the n-gram starting at i: h_{n}[i] = h_{n-1}[i] * M + id[i+n-1]
                rolling = rolling[:-1] * _MULT + ids[n - 1:]
                if n not in top and n not in dup:
                    continue
                order = np.argsort(rolling, kind="stable")  # equal n-grams stay in text order
                ordered = rolling[order]
                later = ordered[1:] == ordered[:-1]  # not the first occurrence of its n-gram
                if not later.any():
                    # no n-gram occurs twice, so no longer one does: every later rule passes
                    return None
                if n in top:
                    gram_chars, count = self._top_gram(order, later, word_len, n)
                    frac = gram_chars * count / text_len
                    if frac > top[n]:
                        return (f"top_{n}gram", f"most frequent {n}-gram covers {frac:.2f} of chars")
                if n in dup:
                    # The union of the repeated n-grams' words bounds the count from above
                    # (and bounds every longer n's too): the exact scan runs only past it.
                    bound = self._dup_coverage(order[1:][later], word_len, n) / text_len
                    if bound > dup[n]:
                        frac = self._dup_chars(order, later, word_len, n) / text_len
                        if frac > dup[n]:
                            return (f"dup_{n}gram", f"repeated {n}-grams cover {frac:.2f} of chars")
                    if not any(m > n for m in top) and all(bound <= f for m, f in dup.items() if m > n):
                        return None
        return None

    @staticmethod
    def _top_gram(order: np.ndarray, later: np.ndarray, word_len: np.ndarray, n: int) -> tuple[int, int]:
        """(characters, occurrences) of the most frequent n-gram; of several equally frequent
        ones, the one that occurs first in the text. ``order`` sorts the n-grams stably and
        ``later`` marks, in that order, each one equal to the one before it."""
        starts = np.flatnonzero(np.concatenate(([True], ~later)))
        counts = np.diff(np.append(starts, len(order)))
        count = int(counts.max())
        first = int(order[starts[counts == count]].min())
        return int(word_len[first:first + n].sum()) + n - 1, count

    @staticmethod
    def _dup_chars(order: np.ndarray, later: np.ndarray, word_len: np.ndarray, n: int) -> int:
        """Characters in repeated n-grams counted as Gopher's reference implementation
        (datatrove's ``find_all_duplicate``) counts them: scan the text; an n-gram seen
        before at a scanned position adds its characters and the scan jumps past it, so a
        repeated sentence counts its words in whole n-grams and the n-grams inside a jump
        are never recorded. Only the positions of n-grams that occur more than once can
        change the count, so the scan visits those alone."""
        starts = np.flatnonzero(np.concatenate(([True], ~later)))
        sizes = np.diff(np.append(starts, len(order)))
        group = np.repeat(np.arange(len(starts)), sizes)  # n-gram id of each sorted slot
        repeated = sizes[group] > 1
        positions, groups = order[repeated], group[repeated]
        in_text = np.argsort(positions, kind="stable")
        chars = np.concatenate(([0], np.cumsum(word_len)))
        seen: set[int] = set()
        scan = total = 0
        for pos, gram in zip(positions[in_text].tolist(), groups[in_text].tolist()):
            if pos < scan:
                continue  # inside a jump: never looked at
            if gram in seen:
                total += int(chars[pos + n] - chars[pos])
                scan = pos + n
            else:
                seen.add(gram)
                scan = pos + 1
        return total

    @staticmethod
    def _dup_coverage(repeated: np.ndarray, word_len: np.ndarray, n: int) -> int:
        """Characters of the words covered by the n-grams starting at ``repeated`` (positions
        of n-grams that occurred earlier in the text): an upper bound of ``_dup_chars``."""
        size = len(word_len) + 1
        marks = np.bincount(repeated, minlength=size) - np.bincount(repeated + n, minlength=size)
        covered = np.cumsum(marks[:-1]) > 0
        return int(word_len[covered].sum())


_BULLETS = ("•", "-", "*", "‣", "◦", "⁃")
# A whitespace word without letters or digits. The start-of-word check is a lookbehind
# *after* the first character, so that the pattern starts with a character class and ``re``
# skips straight to punctuation (``(?<!\S)[^\w\s]+(?!\S)`` was tried at every position).
_PUNCT_WORD = re.compile(r"[^\w\s](?<!\S[^\w\s])[^\w\s]*(?!\S)")
# From a word's first letter to the word's end: one match per whitespace word holding a
# letter. (``\S*[^\W\d_]\S*`` counts the same but, starting with ``\S*``, is tried at every
# position of the text: twice slower.)
_ALPHA_WORD = re.compile(r"[^\W\d_]\S*")
_HAS_LETTER = re.compile(r"[^\W\d_]")


class GopherQuality:
    """Gopher's quality heuristics, as published on the languages they were made for and in
    a per-language form on the others (see ``GopherQualityConfig``). Reasons:
    ``gopher_quality.<rule>``; the detail names the language a per-language rule used."""

    name = "gopher_quality"

    def __init__(self, cfg: GopherQualityConfig | None = None):
        self.cfg = cfg or GopherQualityConfig()
        self.stop_words = frozenset(self.cfg.stop_words)
        self.published = frozenset(self.cfg.languages)
        self.word_length = frozenset(self.cfg.word_length_languages)

    def apply(self, doc: Document) -> Document | Drop:
        reason = self.check(doc.text, doc.language)
        return doc if reason is None else Drop(f"{self.name}.{reason[0]}", reason[1])

    def check(self, text: str, language: str | None = None) -> tuple[str, str] | None:
        """``(rule, detail)`` of the first rule the text breaks, or ``None``. ``language``
        None (not identified) gets the rules as published."""
        cfg = self.cfg
        published = language is None or language in self.published
        words = text.split()
        n = len(words)
        counted = n if language not in NO_SPACE_LANGUAGES else count_words(text, language, cfg.chars_per_word)
        unit = "words" if counted == n else f"words ({language}: {cfg.chars_per_word.get(language, 1.0)} characters a word)"
        if counted < cfg.min_words:
            return ("too_few_words", f"{counted:.0f} < {cfg.min_words} {unit}")
        if counted > cfg.max_words:
            return ("too_many_words", f"{counted:.0f} > {cfg.max_words} {unit}")
        if published or language in self.word_length:
            reason = self._word_length(text, words)
            if reason:
                return reason
        symbols = text.count("#") + text.count("...") + text.count("…")
        if symbols / counted > cfg.max_symbol_word_ratio:
            return ("symbol_ratio", f"{symbols} hash/ellipsis symbols for {counted:.0f} {unit}")
        lines = [line for line in map(str.strip, text.split("\n")) if line]
        if lines:
            bullets = sum(line.startswith(_BULLETS) for line in lines)
            if bullets / len(lines) > cfg.max_bullet_lines_ratio:
                return ("bullet_lines", f"{bullets}/{len(lines)} lines start with a bullet")
            ellipsis = sum(line.endswith(("...", "…")) for line in lines)
            if ellipsis / len(lines) > cfg.max_ellipsis_lines_ratio:
                return ("ellipsis_lines", f"{ellipsis}/{len(lines)} lines end with an ellipsis")
        if language in NO_SPACE_LANGUAGES:
            # whitespace "words" are whole phrases here, so a date or a post number would
            # weigh as much as a sentence: count the script's own units instead
            found = units(text)
            alpha, total = sum(1 for u in found if _HAS_LETTER.search(u)), len(found)
        else:
            alpha, total = len(_ALPHA_WORD.findall(text)), n
        if alpha / max(1, total) < cfg.min_alpha_words_ratio:
            return ("alpha_ratio", f"only {alpha}/{total} words contain a letter")
        return self._stop_word_rule(text, words, language, published)

    def _word_length(self, text: str, words: list[str]) -> tuple[str, str] | None:
        cfg = self.cfg
        # words made only of punctuation do not count towards the mean word length
        punct_only = _PUNCT_WORD.findall(text)
        n_content = len(words) - len(punct_only)
        mean_len = (sum(map(len, words)) - sum(map(len, punct_only))) / max(1, n_content)
        if mean_len < cfg.min_mean_word_length:
            return ("short_words", f"mean word length {mean_len:.1f}")
        if mean_len > cfg.max_mean_word_length:
            return ("long_words", f"mean word length {mean_len:.1f}")
        return None

    def _stop_word_rule(self, text: str, words: list[str], language: str | None,
                        published: bool) -> tuple[str, str] | None:
        need = self.cfg.min_stop_words
        if published:
            found = self._count(words, self.stop_words, need, str.lower)
            return None if found >= need else ("stop_words", f"{found} stop words < {need}")
        if language in FUNCTION_CHARACTERS:
            found = sum(text.count(char) for char in FUNCTION_CHARACTERS[language])
            return None if found >= need else (
                "stop_words", f"{found} {language} function characters < {need}")
        if language in FUNCTION_SUFFIXES:
            endings = FUNCTION_SUFFIXES[language]
            found = self._count(words, _Endings(endings), need, strip_punctuation)
            return None if found >= need else ("stop_words", f"{found} {language} words with a particle ending < {need}")
        vocabulary = stop_words(language, self.cfg.stop_words_top) if self.cfg.stop_words_top else frozenset()
        if not vocabulary:
            return None  # no list for this language: the rule does not apply
        found = self._count(words, vocabulary, need, lambda w: strip_punctuation(w.lower()))
        return None if found >= need else ("stop_words", f"{found} {language} stop words < {need}")

    @staticmethod
    def _count(words: list[str], vocabulary: "frozenset[str] | _Endings", enough: int, norm) -> int:
        """Stop words among ``words``, counting only up to ``enough`` (real text has its
        first two within a few words)."""
        found = 0
        for word in words:
            if norm(word) in vocabulary:
                found += 1
                if found >= enough:
                    break
        return found


class _Endings:
    """``word in endings``: the word is longer than one of the endings and ends with it."""

    def __init__(self, endings: tuple[str, ...]):
        self.endings = endings

    def __contains__(self, word: str) -> bool:
        return any(len(word) > len(e) and word.endswith(e) for e in self.endings)


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
        if doc.language in NO_SPACE_LANGUAGES:
            n_words = count_words(doc.text, doc.language, self.cfg.chars_per_word)
        else:
            n_words = len(doc.text.split())
        if n_words < self.cfg.min_words:
            return Drop("length.too_few_words", f"{n_words:.0f} < {self.cfg.min_words} words")
        return doc
