"""Every judge has a signal that needs no capable LLM (issue 15 item 11): the reward
model's quartile, MiniLM nearest centroid topics, rule tags + readability, lingua."""

import pytest

from herd.core.records import REWARD_SCORE
from herd.plugins.judges.config import DifficultyConfig, LanguageConfig, QualityConfig, TopicConfig
from herd.plugins.judges.difficulty import DifficultyJudge
from herd.plugins.judges.language import LanguageJudge
from herd.plugins.judges.quality import QualityJudge
from herd.plugins.judges.topic import TopicJudge


def by_signal(scores):
    return {s.signal: s for s in scores}


def test_quality_labels_each_row_with_its_reward_quartile(row):
    rows = [row(f"r{i}", "Say hi", "hi", scores={REWARD_SCORE: float(i)}) for i in range(8)]
    rows.append(row("unscored", "Say hi", "hi"))
    scores = QualityJudge(QualityConfig()).score(rows)
    assert [r.quality for r in rows] == [1, 1, 2, 2, 3, 3, 4, 4, None]
    assert [by_signal(s)["rm_top_quartile"].value for s in scores[:8]] == [0, 0, 0, 0, 0, 0, 1, 1]
    assert "no reward score" in by_signal(scores[-1])["rm_quartile"].reason


def test_difficulty_levels_from_rule_tags_and_readability_without_a_generator(row):
    judge = DifficultyJudge(DifficultyConfig())  # the quick and default profiles: no LLM
    assert judge.generator is None
    rows = [
        row("easy", "Repeat exactly: honey", "honey"),
        row("medium", "Write a Python function that reverses a list and explain how it works.", "..."),
        row("hard", "My Python function raises an exception. Explain why, fix the bug step by step, "
                    "and return the corrected code as a JSON object?", "..."),
    ]
    scores = [by_signal(s) for s in judge.score(rows)]
    assert [r.difficulty for r in rows] == [1, 2, 3]
    assert "string_manipulation" in scores[0]["tags"].reason
    assert scores[2]["tags"].value >= 4 and "debugging" in scores[2]["tags"].reason
    assert scores[1]["automated_readability_index"].value is not None
    assert "rating" not in scores[0]  # the LLM's signals join only with use_llm


@pytest.mark.slow
def test_topic_by_minilm_centroids_of_the_shipped_seeds(row):
    judge = TopicJudge(TopicConfig())  # method "embedding": no generator
    rows = [
        row("math", "What is the area of a square with side 7?", "49"),
        row("code", "def square(x):\n    \"\"\"Return x squared.\"\"\"\n", "    return x * x\n"),
        row("general", "Give me three tips for a relaxing weekend.", "..."),
        row("tool", "Search the web for the opening hours of the Louvre.", "..."),
    ]
    scores = [by_signal(s) for s in judge.score(rows)]
    assert [r.topic for r in rows] == ["math_reasoning", "code", "general", "tool_use"]
    assert "fine.geometry" in scores[0] and 0 < scores[0]["coarse.math_reasoning"].value <= 1


def test_language_identified_declared_kept_and_code_falls_back(row):
    rows = [
        row("en", "What is the capital of France?", "Paris is the capital of France."),
        row("fr", "Quelle est la capitale de la France ?", "La capitale de la France est Paris."),
        row("de", "Wie heißt die Hauptstadt von Deutschland?", "Die Hauptstadt ist Berlin."),
        row("declared", "Hola, ¿qué tal?", "Muy bien, gracias.", language="es"),
        row("code", "12 * 7", "84"),
        # Code rows declare their programming language: not a natural language.
        row("python", 'def double(x):\n    """Return x doubled."""\n', "    return 2 * x\n", language="python"),
    ]
    scores = [by_signal(s) for s in LanguageJudge(LanguageConfig()).score(rows)]
    assert [r.language for r in rows] == ["en", "fr", "de", "es", "en", "en"]
    assert scores[3]["confidence"].value > 0.5 and "declared" in scores[3]["confidence"].reason
    assert scores[4]["confidence"].value is None and "fallback" in scores[4]["confidence"].reason
