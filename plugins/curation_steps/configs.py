"""Config dataclasses of the curation steps, kept apart from the steps so that loading the
plugin (which registers them) imports nothing heavy. Each class documents its defaults and
where they come from; the step modules say more."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from herd.core.config import fraction, non_negative, positive
from herd.lib.language.settings import LidSettings
from herd.lib.language.units import CHARS_PER_WORD, NO_SPACE_LANGUAGES

KINDS = ("email", "phone", "ipv4", "ipv6", "card", "iban")  # PII kinds

# Languages whose mean word length Gopher's bounds (3 to 10 characters) fit: alphabets
# written with spaces. Korean, Vietnamese and the scripts without spaces have far shorter
# whitespace "words" (a Hangul syllable block, a Vietnamese syllable) or none at all.
WORD_LENGTH_LANGUAGES = ["en", "de", "fr", "es", "it", "pt", "nl", "ru", "uk", "pl", "cs", "sv", "id", "tr"]


# -- language.py
@dataclass
class LanguageIdConfig:
    """``[filters.language_id]``: stores ``doc.language`` and ``language_id.confidence`` on
    every document; drops below ``min_confidence`` or outside ``keep_languages`` (both off
    by default: curation keeps every language and labels it). Documents are long enough
    for lingua's low-accuracy (trigram) models, which load in half a second instead of
    several (measured in docs/curation.md); they are loaded once, before workers fork."""

    lid: LidSettings = field(default_factory=lambda: LidSettings(max_chars=600, low_accuracy=True, preload=True))
    min_confidence: float = fraction(0.0)
    keep_languages: list[str] = field(default_factory=list)

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- extract.py
@dataclass
class HtmlTextConfig:
    """``engine``: ``hybrid`` | ``resiliparse`` | ``trafilatura`` (measured in
    docs/benchmarks/extraction.md). In ``hybrid``, a page whose main text (herd's scorer on
    resiliparse's DOM) is shorter than ``fallback_min_chars`` and than ``fallback_ratio`` of
    the text left after pruning boilerplate is re-extracted with trafilatura. ``max_depth``: deeper pages are dropped.
    ``min_chars``: an extraction shorter than this drops the document."""

    engine: str = "hybrid"
    fallback_ratio: float = 0.25
    fallback_min_chars: int = 1000
    max_depth: int = 1000
    max_html_chars: int = 10_000_000
    min_chars: int = 1

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- pii.py
@dataclass
class PIIConfig:
    """``mode``: ``redact`` or ``drop``. ``kinds``: which identifiers to look for.
    ``placeholder``: format of the replacement, ``{kind}`` is upper-cased."""

    mode: str = "redact"
    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    placeholder: str = "<{kind}>"
    # Addresses that are not personal (documentation examples, localhost) are kept.
    keep_ips: list[str] = field(default_factory=lambda: ["127.0.0.1", "0.0.0.0", "::1", "255.255.255.255"])

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- safety.py
@dataclass
class URLBlocklistConfig:
    """``path``: the block list (one domain per line); empty = the shipped example list."""

    path: str = ""

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- safety.py
@dataclass
class AdultKeywordsConfig:
    """``path``: rules file (one regex per line); empty = the shipped list.
    ``min_text_matches``: distinct rules that must match in the text to drop (1 rule can be a
    news story about the topic; several distinct ones rarely are)."""

    path: str = ""
    min_text_matches: int = 3
    check_url: bool = True

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- safety.py
@dataclass
class DirtyWordsConfig:
    """Per-language dirty-word lists (``lists`` maps a language code to a file and replaces or
    adds to the shipped ``lists/dirty_words/<lang>.txt``). A document is dropped when dirty
    words make up more than ``max_ratio`` of its tokens AND there are at least ``min_count`` of
    them; ``~`` entries (context words) count only next to an explicit one. C4 drops on any
    single listed word; that removes medical, legal and literary text, so herd asks for a
    density of explicit words (with context words only beside them): a court report on a
    rape trial has none (herd's choice; set ``min_count = 1, max_ratio = 0`` and drop the
    ``~`` marks for C4's rule). Documents in a language without a list pass; documents
    without ``language`` use ``default_language``."""

    lists: dict[str, str] = field(default_factory=dict)
    max_ratio: float = fraction(0.01)
    min_count: int = non_negative(3)
    default_language: str = "en"

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- gopher.py
@dataclass
class GopherRepetitionConfig:
    """Rae et al. 2021 (Gopher), appendix A, table A1; the same as datatrove's defaults.
    ``top_ngrams``: n -> max fraction of characters in the most frequent n-gram;
    ``dup_ngrams``: n -> max fraction of characters in repeated n-grams, counted with the
    reference implementation's greedy scan (datatrove's ``find_all_duplicate``) over
    whitespace words (datatrove's NLTK words make every bracket and colon of a code file a
    word of its own, and its n-grams repeat). A text of at most ``quote_max_chars`` that
    breaks an n-gram rule is checked again without its quote lines (each line of
    ``quote_min_words`` or more words that repeats a piece of a longer line: a pull quote,
    a caption quoting the body) and dropped only if it still breaks one (herd's choice, so
    that page layout does not count as repetition; ``quote_min_words = 0`` turns it off)."""

    dup_line_frac: float = 0.30
    dup_para_frac: float = 0.30
    dup_line_char_frac: float = 0.20
    dup_para_char_frac: float = 0.20
    top_ngrams: dict[str, float] = field(default_factory=lambda: {"2": 0.20, "3": 0.18, "4": 0.16})
    dup_ngrams: dict[str, float] = field(
        default_factory=lambda: {"5": 0.15, "6": 0.14, "7": 0.13, "8": 0.12, "9": 0.11, "10": 0.10}
    )
    # The n-gram rules count whitespace words, which scripts without spaces do not have:
    # documents in these languages get the line and paragraph rules only.
    ngram_skip_languages: list[str] = field(default_factory=lambda: sorted(NO_SPACE_LANGUAGES))
    quote_min_words: int = non_negative(6)
    quote_max_chars: int = non_negative(20_000)


# -- gopher.py
@dataclass
class GopherQualityConfig:
    """Gopher section A.1.1 quality rules (defaults as in the paper and datatrove), run as
    published on the ``languages`` they were made for (English; also documents whose
    language is unknown). On other languages each rule runs in its per-language form:
    words are counted by characters (``chars_per_word``) in scripts without spaces; the
    word-length bounds apply to ``word_length_languages`` only; the stop-word rule uses the
    language's ``stop_words_top`` most frequent words (``herd.lib.language.stopwords``) and
    is skipped where no list exists. Symbol, bullet, ellipsis and letter rules are the
    same in every language."""

    min_words: int = 50
    max_words: int = 100_000
    min_mean_word_length: float = 3.0
    max_mean_word_length: float = 10.0
    max_symbol_word_ratio: float = 0.10
    max_bullet_lines_ratio: float = 0.90
    max_ellipsis_lines_ratio: float = 0.30
    min_alpha_words_ratio: float = 0.80
    min_stop_words: int = 2
    stop_words: list[str] = field(
        default_factory=lambda: ["the", "be", "to", "of", "and", "that", "have", "with"]
    )
    languages: list[str] = field(default_factory=lambda: ["en"])
    word_length_languages: list[str] = field(default_factory=lambda: list(WORD_LENGTH_LANGUAGES))
    stop_words_top: int = non_negative(32)  # 0: no stop-word rule outside ``languages``
    chars_per_word: dict[str, float] = field(default_factory=lambda: dict(CHARS_PER_WORD))

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- placeholder.py
@dataclass
class PlaceholderTextConfig:
    """``phrases``: a page holding any of them (any case) is dropped (C4's rule for
    "lorem ipsum", Raffel et al. 2020, section 2.2)."""

    phrases: list[str] = field(default_factory=lambda: ["lorem ipsum"])

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- gopher.py
@dataclass
class LengthConfig:
    """Bounds on document size. ``max_chars`` drops pathological documents (a 50 MB record)
    before the costlier steps; ``min_chars`` drops fragments (menus, error pages). herd's own
    choices; Gopher's word-count bounds live in ``gopher_quality``. Words are counted by
    characters (``chars_per_word``) in scripts written without spaces."""

    min_chars: int = 200
    max_chars: int = 1_000_000
    min_words: int = 20
    chars_per_word: dict[str, float] = field(default_factory=lambda: dict(CHARS_PER_WORD))

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- quality.py, domain.py
@dataclass
class TrainedClassifierSettings:
    """How a classifier trained in the run splits and fits its labelled documents:
    ``held_out`` of them measure it; fewer than ``min_per_class`` training documents in
    two classes and the step falls back (its ``classifier.json`` says so); at most
    ``max_per_class`` per class are used. fastText settings (measured in
    plugins/curation_steps/classifier.py): the first ``train_chars`` characters of a
    document are what the model reads."""

    held_out: float = fraction(0.2)
    min_per_class: int = positive(10)
    max_per_class: int = positive(2000)
    epoch: int = positive(10)
    dim: int = positive(16)
    train_chars: int = positive(2000)
    seed: int = 0


# -- quality.py
@dataclass
class QualityClassifierConfig(TrainedClassifierSettings):
    """Without ``model_path`` / ``hf_model_path`` the step trains a fastText classifier in the
    run: documents with a known quality label are its training data (``metadata.quality_label``
    from a judge, 1/0 or hq/lq, else ``quality_sources``: ``doc.source`` -> ``hq`` or ``lq``;
    the defaults label the built-in corpus: reference text is ``hq``, licence and copyright
    boilerplate ``lq``), ``held_out`` of them measure it. Too little labelled data: a
    heuristic prose score (stop words, letters, symbols) is recorded and nothing is dropped.
    ``model_path``: a fastText model from ``train-quality-classifier``; ``hf_model_path``: a
    local transformers sequence-classification model (``positive_label`` = high quality).
    ``threshold``: documents whose probability of high quality is below it are dropped
    (0 = score only). ``languages``: the languages the labels describe; documents in another
    language are neither trained on nor scored (an English-trained model says little about them)."""

    model_path: str = ""
    hf_model_path: str = ""
    positive_label: int = 1
    threshold: float = 0.2
    max_chars: int = 20_000
    device: str = "cpu"
    quality_sources: dict[str, str] = field(default_factory=lambda: {
        "manpages": "hq", "python-docs": "hq", "scientific-docs": "hq", "source-code": "hq",
        "debian-copyright": "lq"})
    languages: list[str] = field(default_factory=lambda: ["en"])

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- domain.py
@dataclass
class DomainClassifierConfig(TrainedClassifierSettings):
    """The step trains a fastText classifier in the run over ``general``, ``math_reasoning``
    and ``code``: documents whose ``domain`` is given, or whose ``doc.source`` is in
    ``source_domains`` (the defaults name the built-in corpus's sources), are its training
    data, ``held_out`` of them measure it, and they keep their known domain; every other
    document gets the model's. A document whose ``language`` is known and not in
    ``english`` is ``multilingual`` unless the model says code.
    With too little labelled data (fewer than two classes with ``min_per_class`` training
    documents) the rules decide instead, and the step's ``classifier.json`` says so: ``code_line_ratio``
    (share of code-looking lines that makes a document code), ``math_density`` (LaTeX and
    maths-symbol markers per 100 tokens) or ``reasoning_ratio`` of reasoning words."""

    code_line_ratio: float = 0.35
    math_density: float = 2.0
    reasoning_ratio: float = 0.03
    english: list[str] = field(default_factory=lambda: ["en"])
    source_domains: dict[str, str] = field(default_factory=lambda: {
        "scientific-docs": "math_reasoning", "source-code": "code", "manpages": "general",
        "python-docs": "general", "debian-copyright": "general", "translations": "multilingual"})
    # Below this probability of its top class the model is unsure and the rules decide
    # (on 678 installed packages' READMEs and licences it cuts the ones labelled maths by a
    # quarter and keeps ~95% of mpmath's maths docstrings; herd's choice).
    min_confidence: float = 0.6

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- dedup/url.py
@dataclass
class URLDedupConfig:
    """``drop_params``: query-parameter prefixes removed before comparing URLs."""

    drop_params: list[str] = field(default_factory=lambda: ["utm_", "fbclid", "gclid"])
    spill_dir: str = ""

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- dedup/exact.py
@dataclass
class ExactDedupConfig:
    """``spill_dir``: where observed hashes wait for ``finalize`` (empty = system temp dir)."""

    spill_dir: str = ""

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- dedup/minhash.py
@dataclass
class MinHashConfig:
    """Defaults as in datatrove's FineWeb MinHash recipe and the issue's anchors (5-gram shingles,
    14 bands x 8 rows = 112 hash functions; S-curve midpoint at Jaccard ~0.72, 92% caught at 0.8).
    ``ngram``: words per shingle; ``bands * rows`` hash functions; ``verify_threshold``:
    minimum estimated Jaccard for a candidate pair (0 trusts the LSH buckets alone, as
    datatrove does); ``seed`` picks the hash functions."""

    ngram: int = 5
    bands: int = 14
    rows: int = 8
    verify_threshold: float = 0.65
    seed: int = 1
    spill_dir: str = ""
    block_shingles: int = 8192

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- dedup/lines.py
@dataclass
class LineDedupConfig:
    """``max_occurrences``: a line in more documents than this within a bucket is removed
    (6 in the recipe). ``bucket_size``: documents per bucket (30M in the recipe).
    ``min_line_chars``: shorter lines are never removed (blank lines, list markers)."""

    max_occurrences: int = 6
    bucket_size: int = 30_000_000
    min_line_chars: int = 1
    partitions: int = 16
    spill_dir: str = ""

    PROFILES: ClassVar[dict[str, dict]] = {"quick": {"bucket_size": 2000}}


# -- token_kl.py
@dataclass
class TokenKLConfig:
    """docs/recipe.md section 1 (token-distribution KL). ``bins``: hashed token ids; ``smoothing``:
    weight of the uniform distribution mixed into the corpus one; cut-off = ``max_kl`` or the
    ``percentile`` of a ``sample_size`` sample, per language; a language with fewer than
    ``min_language_sample`` sampled documents is not filtered; documents under
    ``min_tokens`` are never dropped (herd's choices; the recipe gives no numbers)."""

    bins: int = 1 << 20
    smoothing: float = 1e-3
    percentile: float = 99.0
    max_kl: float | None = None
    min_tokens: int = 50
    sample_size: int = 20_000
    min_language_sample: int = 50

    PROFILES: ClassVar[dict[str, dict]] = {}


# -- mix.py
@dataclass
class DomainMixConfig:
    """Default proportions: docs/recipe.md section 1 (~50% general, 25% math and reasoning, 17% code,
    8% multilingual). ``proportions``: target share of tokens per domain (normalised to sum to 1).
    ``unknown_domain``: where documents without a domain go."""

    proportions: dict[str, float] = field(default_factory=lambda: {
        "general": 0.50, "math_reasoning": 0.25, "code": 0.17, "multilingual": 0.08})
    total_tokens: int = 0
    max_repeats: int = 4
    seed: int = 0
    unknown_domain: str = "general"

    PROFILES: ClassVar[dict[str, dict]] = {}
