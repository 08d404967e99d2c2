"""Per-language stop words for Gopher's stop-word rule outside English.

Gopher's rule ("at least two of: the, be, to, of, and, that, have, with"; Rae et al. 2021,
section A.1.1) asks whether a text is written in sentences of its language. Outside English
herd asks the same with each language's most frequent words: the stop lists jusText ships
(ordered by frequency in Wikipedia; jusText is installed with trafilatura, the curation
extractor's fallback), read as files so that nothing is imported. Chinese and Japanese are
written without spaces and have no jusText list: their most frequent function characters
(particles, the possessive) are matched inside the text instead. Korean attaches its
particles to the word before them, so a Korean "stop word" is a word ending: the words
that end in a case particle or the plain sentence ending are counted.
"""

from __future__ import annotations

import functools
import importlib.util
import string
from pathlib import Path

# jusText's stop lists are named by English language name.
_JUSTEXT_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian",
    "ms": "Malay", "nl": "Dutch", "no": "Norwegian_Bokmal", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian",
    "ur": "Urdu", "vi": "Vietnamese",
}

# Function characters of scripts without spaces, matched as substrings (herd's lists): the
# Japanese case particles and the Chinese possessive, copula, locative and aspect markers.
FUNCTION_CHARACTERS = {
    "ja": ("の", "に", "は", "を", "が", "で", "と", "た", "て", "し"),
    "zh": ("的", "是", "在", "了", "和", "有", "不", "这", "我", "一"),
}

# Word endings of agglutinative languages (herd's list): the Korean topic, subject,
# object, locative, genitive, instrumental and comitative particles, and the plain
# declarative sentence ending -다.
FUNCTION_SUFFIXES = {
    "ko": ("은", "는", "이", "가", "을", "를", "에", "의", "로", "와", "과", "도", "다"),
}

_PUNCTUATION = string.punctuation + "«»„“”‘’—–…·、。，．！？：；（）「」『』【】"


def strip_punctuation(word: str) -> str:
    return word.strip(_PUNCTUATION)


def _stoplist_dir() -> Path | None:
    spec = importlib.util.find_spec("justext")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "stoplists"


@functools.lru_cache(maxsize=None)
def stop_words(language: str, top: int) -> frozenset[str]:
    """The ``top`` most frequent words of ``language`` (lower case, no punctuation); empty
    when no list ships for it (the stop-word rule then does not apply)."""
    name = _JUSTEXT_NAMES.get(language)
    folder = _stoplist_dir()
    if name is None or folder is None or not (folder / f"{name}.txt").is_file():
        return frozenset()
    words: list[str] = []
    for raw in (folder / f"{name}.txt").read_text(encoding="utf-8").split():
        word = strip_punctuation(raw.lower())
        if word and word not in words:
            words.append(word)
            if len(words) == top:
                break
    return frozenset(words)
