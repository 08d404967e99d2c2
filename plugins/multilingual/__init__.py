"""The multilingual capability (docs/recipe.md sections 1 and 6): language ID on every
document and SFT row, per-language pretraining filters and dedup, multilingual prompts
with language-match rejection sampling, round-trip-checked translation, native data
import, and per-language evaluation. Enable with ``--plugins multilingual``."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.multilingual.config import (
    DirtyWordsConfig,
    LanguageDedupConfig,
    LanguageIdConfig,
    LanguageMatchConfig,
    LanguageQualityConfig,
    MultilingualConfig,
    MultilingualEvalConfig,
    MultilingualPromptsConfig,
    RoundTripConfig,
    ScriptHeuristicsConfig,
)


def _dirty_words(cfg):
    from herd.plugins.multilingual.filters import DirtyWords

    return DirtyWords(cfg)


def _script_heuristics(cfg):
    from herd.plugins.multilingual.filters import ScriptHeuristics

    return ScriptHeuristics(cfg)


def _language_quality(cfg):
    from herd.plugins.multilingual.filters import LanguageQuality

    return LanguageQuality(cfg)


def _language_dedup(cfg):
    from herd.plugins.multilingual.dedup import LanguageDedup

    return LanguageDedup(cfg)


def _language_label(cfg, services=None):
    from herd.plugins.multilingual.langid import LanguageLabel

    return LanguageLabel(cfg, services)


def _language_match(cfg, services=None):
    from herd.plugins.multilingual.language_match import LanguageMatch

    return LanguageMatch(cfg, services)


def _prompts(cfg, services=None):
    from herd.plugins.multilingual.prompts import MultilingualPrompts

    return MultilingualPrompts(cfg, services)


def _round_trip(cfg, services=None):
    from herd.plugins.multilingual.prompts import RoundTripTranslation

    return RoundTripTranslation(cfg, services)


def _evaluator(cfg, services=None):
    from herd.plugins.multilingual.evaluator import MultilingualEvaluator

    return MultilingualEvaluator(cfg, services)


@hookimpl
def herd_register_filters(register):
    # Curation's own language_id (curation_steps) labels every document right after
    # extraction; these per-language filters read doc.language.
    register("multilingual_dirty_words", _dirty_words, config=DirtyWordsConfig, default=True, after="dirty_words",
             description="per-language dirty-word ratio (lists shipped for en, fr, de, es, zh, ja)")
    register("script_heuristics", _script_heuristics, config=ScriptHeuristicsConfig, default=True,
             after="language_id",
             description="length/symbol/script checks counting words by characters for zh, ja, th")
    register("language_quality", _language_quality, config=LanguageQualityConfig,
             description="per-language fastText quality classifiers, when given")


@hookimpl
def herd_register_dedupers(register):
    register("language_dedup", _language_dedup, config=LanguageDedupConfig,
             description="exact document and repeated-line dedup keyed by language")


@hookimpl
def herd_register_judges(register):
    register("language_match", _language_match, kind="verifier", config=LanguageMatchConfig,
             description="rejects a response that is not in the prompt's (or requested) language")
    # A label, not a verdict: "topic" is the nearest of the documented kinds.
    register("language_id", _language_label, kind="topic", config=LanguageIdConfig,
             description="language and LID confidence on every SFT row (add it to [sft_funnel] funnel)")


@hookimpl
def herd_register_synthesizers(register):
    register("multilingual_prompts", _prompts, capability="multilingual", config=MultilingualPromptsConfig,
             description="shipped fr/de/es/zh prompts, native data, language-matched rejection sampling")
    # Needs English SFT rows from the user (source_path), so runs use it only when named.
    register("round_trip_translation", _round_trip, capability="multilingual", config=RoundTripConfig, default=False,
             description="translated SFT rows kept only when the back-translation matches (chrF)")


@hookimpl
def herd_register_evaluators(register):
    register("multilingual", _evaluator, capability="multilingual", config=MultilingualEvalConfig,
             description="per-language perplexity on held-out text and language-match rate of generations")


@hookimpl
def herd_register_config_sections(register):
    register("multilingual", MultilingualConfig)
