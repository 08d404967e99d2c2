"""Script-aware text units: words for space-separated scripts, characters for scripts
written without spaces (Chinese, Japanese, Thai...), so that length heuristics and
dirty-word ratios mean the same thing in every language."""

from __future__ import annotations

import re
import unicodedata

NO_SPACE_LANGUAGES = {"zh", "ja", "th", "lo", "km", "my", "bo"}
# Characters per word used to turn a character count into a word count (approximate
# average word lengths: Chinese ~1.5, Japanese ~2, Thai ~4 characters).
CHARS_PER_WORD = {"zh": 1.5, "ja": 2.0, "th": 4.0}

_NO_SPACE_CHAR = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
)
_UNIT = re.compile(f"[{_NO_SPACE_CHAR}]|[^\\W{_NO_SPACE_CHAR}]+", re.UNICODE)
_NO_SPACE = re.compile(f"[{_NO_SPACE_CHAR}]")
NO_SPACE_CHAR = _NO_SPACE  # one character of a script written without spaces

# The script a language is written in, by Unicode character name prefix.
SCRIPTS = {
    "zh": ("CJK",),
    "ja": ("CJK", "HIRAGANA", "KATAKANA"),
    "th": ("THAI",),
    "ru": ("CYRILLIC",),
    "hi": ("DEVANAGARI",),
    "ko": ("HANGUL",),
    "ar": ("ARABIC",),
}


def units(text: str) -> list[str]:
    """Words of space-separated scripts and single characters of the others."""
    return _UNIT.findall(text)


def count_words(text: str, language: str | None, chars_per_word: dict[str, float] | None = None) -> float:
    """Words, counting a no-space script's characters as ``1 / chars_per_word[lang]`` words."""
    found = units(text)
    if language not in NO_SPACE_LANGUAGES:
        return float(len(found))
    per_word = (chars_per_word or {}).get(language, 1.0)
    single = sum(1 for u in found if _NO_SPACE.fullmatch(u))
    return (len(found) - single) + single / per_word


def script_ratio(text: str, language: str, chars_per_word: dict[str, float] | None = None) -> float | None:
    """Share of the words written in ``language``'s script (None if it has no single
    script here, e.g. Latin-script languages, or the text has no letters).

    Words, not letters: a Chinese character is about a word while a Latin word is five
    letters, so a letter count would call a Chinese help text with a few option names in
    it mostly Latin. Own-script characters of a no-space script count as
    ``1 / chars_per_word[language]`` words each, as in ``count_words``."""
    prefixes = SCRIPTS.get(language)
    if prefixes is None:
        return None
    per_char = 1.0 / (chars_per_word or {}).get(language, 1.0) if language in NO_SPACE_LANGUAGES else None
    own = other = 0.0
    for unit in units(text):
        letters = [c for c in unit if unicodedata.category(c).startswith("L")]
        if not letters:
            continue
        in_script = sum(1 for c in letters if unicodedata.name(c, "").startswith(prefixes)) * 2 > len(letters)
        if not in_script:
            other += 1
        else:
            own += per_char if per_char is not None else 1
    if own + other == 0:
        return None
    return own / (own + other)


def normalize(text: str) -> str:
    """Lower-cased, NFKC-normalised, whitespace collapsed: the form dedup hashes."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())
