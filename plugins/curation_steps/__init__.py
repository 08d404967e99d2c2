"""Built-in curation steps (docs/recipe.md section 1): extraction, language ID, safety and PII, Gopher-style
heuristics, dirty words, token-distribution KL, URL/exact/MinHash/line de-duplication,
model-based quality and domain classifiers trained in the run, and the domain mixer.

Only registrations live here; each factory imports its module when the step is built.
"""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.curation_steps.configs import (
    AdultKeywordsConfig,
    DirtyWordsConfig,
    DomainClassifierConfig,
    DomainMixConfig,
    ExactDedupConfig,
    GopherQualityConfig,
    GopherRepetitionConfig,
    HtmlTextConfig,
    LanguageIdConfig,
    LengthConfig,
    LineDedupConfig,
    MinHashConfig,
    PIIConfig,
    PlaceholderTextConfig,
    QualityClassifierConfig,
    TokenKLConfig,
    URLBlocklistConfig,
    URLDedupConfig,
)


def _lazy(module: str, cls: str):
    def factory(cfg):
        import importlib

        return getattr(importlib.import_module(f"herd.plugins.curation_steps.{module}"), cls)(cfg)

    factory.__name__ = f"build_{cls}"
    factory.__qualname__ = factory.__name__
    return factory


# Module-level factories so that step specs pickle (executors send them to other processes).
build_html_text = _lazy("extract", "HtmlText")
build_language_id = _lazy("language", "LanguageIdFilter")
build_pii = _lazy("pii", "PII")
build_url_blocklist = _lazy("safety", "URLBlocklist")
build_adult_keywords = _lazy("safety", "AdultKeywords")
build_dirty_words = _lazy("safety", "DirtyWords")
build_length = _lazy("gopher", "Length")
build_gopher_repetition = _lazy("gopher", "GopherRepetition")
build_gopher_quality = _lazy("gopher", "GopherQuality")
build_placeholder_text = _lazy("placeholder", "PlaceholderText")
build_quality_classifier = _lazy("quality", "QualityClassifier")
build_domain_classifier = _lazy("domain", "DomainClassifier")
build_url_dedup = _lazy("dedup.url", "URLDedup")
build_exact_dedup = _lazy("dedup.exact", "ExactDedup")
build_minhash_dedup = _lazy("dedup.minhash", "MinHashDedup")
build_line_dedup = _lazy("dedup.lines", "LineDedup")
build_token_kl = _lazy("token_kl", "TokenKL")
build_domain_mix = _lazy("mix", "DomainMix")


@hookimpl
def herd_register_extractors(register):
    register("html_text", build_html_text, config=HtmlTextConfig,
             description="HTML to text: resiliparse with trafilatura fallback, code and math kept")


@hookimpl
def herd_register_filters(register):
    register("language_id", build_language_id, config=LanguageIdConfig,
             description="language and confidence on every document (lingua, or a fastText LID model)")
    register("pii", build_pii, config=PIIConfig,
             description="redact (or drop) e-mails, phones, IPs, Luhn-valid cards, IBANs")
    register("url_blocklist", build_url_blocklist, config=URLBlocklistConfig,
             description="drop documents from blocked (adult/unsafe) domains; replaceable list")
    register("adult_keywords", build_adult_keywords, config=AdultKeywordsConfig,
             description="adult keyword rules on the URL and the text")
    register("length", build_length, config=LengthConfig, description="document size bounds")
    register("gopher_repetition", build_gopher_repetition, config=GopherRepetitionConfig,
             description="Gopher repeated lines/paragraphs/n-grams (Rae et al. 2021, table A1)")
    register("gopher_quality", build_gopher_quality, config=GopherQualityConfig,
             description="Gopher quality rules: word count, word length, symbols, bullets, stop words")
    register("placeholder_text", build_placeholder_text, config=PlaceholderTextConfig,
             description="C4's rule: drop pages holding placeholder text (lorem ipsum)")
    register("dirty_words", build_dirty_words, config=DirtyWordsConfig,
             description="per-language dirty-word ratio (replaceable lists)")


@hookimpl
def herd_register_dedupers(register):
    register("url_dedup", build_url_dedup, config=URLDedupConfig,
             description="normalised URL: keep the most recent fetch")
    register("exact_dedup", build_exact_dedup, config=ExactDedupConfig,
             description="identical text: one survivor")
    register("minhash_dedup", build_minhash_dedup, config=MinHashConfig,
             description="MinHash LSH near-duplicates (5-grams, 14x8), connected components")
    register("line_dedup", build_line_dedup, config=LineDedupConfig,
             description="remove lines seen in more than 6 documents per bucket")
    register("token_kl", build_token_kl, config=TokenKLConfig,
             description="drop documents whose token distribution diverges from the corpus")
    # The classifiers are corpus steps: they train on the run's labelled documents first.
    register("quality_classifier", build_quality_classifier, config=QualityClassifierConfig,
             description="fastText quality classifier trained in the run on labelled documents (or a given model)")
    register("domain_classifier", build_domain_classifier, config=DomainClassifierConfig,
             description="fastText domain classifier trained in the run: general / math_reasoning / code / "
                         "multilingual, and a topic")


@hookimpl
def herd_register_mixers(register):
    register("domain_mix", build_domain_mix, config=DomainMixConfig,
             description="sample to target token proportions per domain (50/25/17/8)")


@hookimpl
def herd_register_commands(register):
    from herd.plugins.curation_steps import command

    register("train-quality-classifier", command.add_arguments, command.run,
             help="train the fastText quality classifier from labelled examples")
