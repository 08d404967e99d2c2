"""Config dataclasses of the multilingual plugin: ``[multilingual]`` and one section per
component (``[filters.language_id]``, ``[judges.language_match]``...). Defaults are the
``default`` profile; the recipe's numbers cite docs/recipe.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from herd.core.config import fraction, non_negative, positive
from herd.lib.language.settings import DEFAULT_LANGUAGES, LidSettings

NON_ENGLISH = ["fr", "de", "es", "zh"]


@dataclass
class MultilingualConfig:
    """``[multilingual]``: the capability's languages and mix targets."""

    languages: list[str] = field(default_factory=lambda: list(NON_ENGLISH))
    pretrain_mix_target: float = fraction(0.08)  # docs/recipe.md section 1: 8% multilingual tokens
    sft_mix_target: float = fraction(0.03)  # docs/recipe.md section 5: 3% multilingual SFT rows
    lid: LidSettings = field(default_factory=LidSettings)


@dataclass
class LanguageIdConfig:
    """``[judges.language_id]``: the language and LID confidence on every SFT row. (Documents
    are labelled by curation's own ``[filters.language_id]``.)"""

    lid: LidSettings = field(default_factory=LidSettings)


@dataclass
class DirtyWordsConfig:
    """``[filters.multilingual_dirty_words]``: per-language word lists (docs/recipe.md section 1,
    "dirty word" counts). ``lists`` adds or replaces a language's list with a file (one
    word or phrase a line)."""

    max_ratio: float = fraction(0.01)  # dirty words per word
    min_hits: int = non_negative(2)
    lists: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptHeuristicsConfig:
    """``[filters.script_heuristics]``: Gopher-style length and symbol checks that count
    words by characters for scripts written without spaces, plus a script-purity check."""

    languages: list[str] = field(default_factory=lambda: ["zh", "ja", "th"])
    # Characters per word used to turn a character count into a word count (approximate
    # average word lengths: Chinese ~1.5, Japanese ~2, Thai ~4 characters).
    chars_per_word: dict[str, float] = positive(default_factory=lambda: {"zh": 1.5, "ja": 2.0, "th": 4.0})
    min_words: int = non_negative(50)
    max_words: int = positive(100_000)
    max_symbol_ratio: float = fraction(0.1)
    min_script_ratio: float = fraction(0.5)  # share of words (characters / chars_per_word) in the language's own script

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"quick": {"min_words": 10}}


@dataclass
class LanguageQualityConfig:
    """``[filters.language_quality]``: per-language fastText quality classifiers when
    given (docs/recipe.md section 1: per-language model filters). ``models`` maps a language
    to a model file; documents of other languages pass."""

    models: dict[str, str] = field(default_factory=dict)
    positive_label: str = "__label__hq"
    min_score: float = 0.5


@dataclass
class LanguageDedupConfig:
    """``[dedupers.language_dedup]``: exact document dedup and line dedup keyed by
    language (docs/recipe.md section 1: per-language document and line dedup)."""

    documents: bool = True
    lines: bool = True
    max_line_occurrences: int = 6  # a line in more documents than this is removed everywhere
    min_line_chars: int = 10  # shorter lines (bullets, "OK") are never removed
    min_doc_chars: int = 50  # a document shorter than this after line removal is dropped


@dataclass
class LanguageMatchConfig:
    """``[judges.language_match]``: reject a response not in the prompt's language
    (docs/recipe.md section 6, multilingual: language-match checks)."""

    lid: LidSettings = field(default_factory=LidSettings)
    min_letters: int = non_negative(12)  # shorter responses (numbers, code) cannot be identified: not applicable
    # (a character of a no-space script counts as 3 letters)
    # Degenerate text ("e e e e", "la la la") gets a spread of low confidences that the
    # runner-up rule would pass: fewer distinct words (2+ letters, or one character of a
    # no-space script) or a top confidence below this makes the check not applicable.
    min_distinct_words: int = non_negative(3)
    min_confidence: float = fraction(0.25)
    # A response whose detected language differs still passes as uncertain when the
    # expected language's confidence is at least this fraction of the detected one's.
    runner_up_ratio: float = 0.5


@dataclass
class MultilingualPromptsConfig:
    """``[synthesizers.multilingual_prompts]``: the shipped (or given) prompts, answered by
    the generator with rejection sampling in the prompt's language; native human data."""

    languages: list[str] = field(default_factory=lambda: list(NON_ENGLISH))
    prompts_path: str = ""  # "" = the shipped prompt set
    native_data: list[str] = field(default_factory=list)  # JSONL files of {"messages": [...]}
    builtin_native: bool = True  # also the shipped native conversations (data/native_sft.jsonl)
    samples_per_prompt: int = 4
    temperature: float = 0.8
    max_tokens: int = 512
    lid: LidSettings = field(default_factory=LidSettings)

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"quick": {"samples_per_prompt": 2, "max_tokens": 64}}


@dataclass
class RoundTripConfig:
    """``[synthesizers.round_trip_translation]``: translate English SFT rows and keep a
    translation only when translating it back scores ``min_chrf`` against the original
    (docs/recipe.md section 6: limited use of translated data)."""

    source_path: str = ""  # JSONL SFT rows ({"messages": [...]}) in English
    languages: list[str] = field(default_factory=lambda: list(NON_ENGLISH))
    min_chrf: float = 0.6
    max_tokens: int = 1024
    lid: LidSettings = field(default_factory=LidSettings)


@dataclass
class MultilingualEvalConfig:
    """``[evaluators.multilingual]``: per-language perplexity on held-out text and
    per-language task score (language-match rate of generations)."""

    languages: list[str] = field(default_factory=lambda: ["en", *NON_ENGLISH])
    heldout_dir: str = ""  # "" = the shipped held-out text (<lang>.txt)
    prompts_path: str = ""  # "" = the shipped prompt set
    max_tokens: int = 128
    context: int = 512  # tokens per perplexity window
    device: str = "cpu"
    task_score: bool = True  # generates answers to the eval prompts
    generator: str = "local"  # backend pointed at the model when services hold no generator
    chat_format: str = "auto"  # "auto" (Llama 3 headers if the tokenizer has them), "llama3", "none"
    lid: LidSettings = field(default_factory=LidSettings)

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"quick": {"max_tokens": 32, "context": 128}}
