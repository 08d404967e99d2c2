"""Judges of post-training data (docs/recipe.md section 5, "Data quality"): rule cleaning,
language, topic, quality, difficulty, semantic dedup and the SFT funnel that runs them."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.core.services import Services
from herd.lib.sft_funnel.config import SFTFunnelConfig
from herd.plugins.judges.config import DifficultyConfig, LanguageConfig, QualityConfig, RuleCleaningConfig, TopicConfig


def _rule_cleaning(cfg, services: Services):
    from herd.plugins.judges.rules import RuleCleaning

    return RuleCleaning(cfg, services)


def _language(cfg, services: Services):
    from herd.plugins.judges.language import LanguageJudge

    return LanguageJudge(cfg, services)


def _topic(cfg, services: Services):
    from herd.plugins.judges.topic import TopicJudge

    return TopicJudge(cfg, services)


def _quality(cfg, services: Services):
    from herd.plugins.judges.quality import QualityJudge

    return QualityJudge(cfg, services)


def _difficulty(cfg, services: Services):
    from herd.plugins.judges.difficulty import DifficultyJudge

    return DifficultyJudge(cfg, services)


@hookimpl
def herd_register_judges(register):
    register("rule_cleaning", _rule_cleaning, kind="rule", config=RuleCleaningConfig,
             description="emoji/exclamation overuse, apologetic openers, boilerplate phrases")
    register("language", _language, kind="language", config=LanguageConfig,
             description="the row's language by lingua on its prose (declared languages kept)")
    register("topic", _topic, kind="topic", config=TopicConfig,
             description="coarse and fine topics: MiniLM nearest centroid of seed prompts; an LLM judge joins")
    register("quality", _quality, kind="quality", config=QualityConfig,
             description="reward-model score quartile (top = high quality); an LLM rubric joins")
    register("difficulty", _difficulty, kind="difficulty", config=DifficultyConfig,
             description="InsTag-style rule tags + textstat readability -> level 1-3; an LLM tagger and rating join")


@hookimpl
def herd_register_config_sections(register):
    register("sft_funnel", SFTFunnelConfig)
