"""Settings of the language detector, shared by every config section that runs one."""

from __future__ import annotations

from dataclasses import dataclass, field

from herd.core.config import positive

# Llama 3.1's eight supported languages (en de fr it pt hi es th), the large web languages
# that crawls are full of (zh ja ru ko id ...), and neighbours that would otherwise be
# mistaken for one of them (nl for de, uk for ru, ms is folded into id by lingua's model).
# Fewer languages = faster and fewer confusions; a language missing here is labelled as
# its closest listed one, so every language a corpus holds in bulk should be listed.
DEFAULT_LANGUAGES = [
    "en", "de", "fr", "it", "pt", "hi", "es", "th", "zh", "ja", "ru",
    "ko", "id", "nl", "pl", "tr", "vi", "ar", "sv", "cs", "uk",
]


@dataclass
class LidSettings:
    """Language identification: lingua restricted to ``languages``, or a fastText LID model
    (``lid.176.bin``-style) when a path is given. ``max_chars``: the detector reads at most
    this many characters, in four pieces spread from the start of the text to its end (a
    page's first lines can be a menu in another language than its body); lingua's speed
    is about linear in it (docs/curation.md gives docs/s)."""

    languages: list[str] = field(default_factory=lambda: list(DEFAULT_LANGUAGES))
    fasttext_model: str = ""
    max_chars: int = positive(1000)
    # lingua's low-accuracy mode: trigram models only. Per text barely faster with many
    # languages, and worse on short texts (a sentence), but its models load in half a
    # second (54 MB for 21 languages) where the full ones take 5 to 9 s (500 MB).
    low_accuracy: bool = False
    # Load every language's model when the detector is built (else on first use), so that
    # processes forked afterwards share them instead of each loading its own.
    preload: bool = False
