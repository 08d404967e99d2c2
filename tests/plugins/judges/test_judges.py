"""The judges through their public interface, with a scripted generation backend."""


import pytest

from herd.core.errors import ConfigError
from herd.core.records import REWARD_SCORE, ChatMessage, Trajectory
from herd.plugins.judges.config import DifficultyConfig, QualityConfig, RuleCleaningConfig, TopicConfig
from herd.plugins.judges.difficulty import DifficultyJudge
from herd.plugins.judges.quality import QualityJudge
from herd.plugins.judges.rules import RuleCleaning
from herd.plugins.judges.topic import TopicJudge, train_topic_classifier
from herd.lib.sft_funnel.funnel import store_scores
from herd.plugins.posttrain.judging import Judged
from herd.plugins.posttrain.rejection_sampling import rejection_sample
from herd.plugins.posttrain.round_state import Ledger
from herd.plugins.posttrain.rollouts import Prompt


def by_signal(scores):
    return {s.signal: s for s in scores}


def test_rule_cleaning_rejects_style_problems_with_reasons(row):
    judge = RuleCleaning(RuleCleaningConfig())
    rows = [
        row("ok", "Add 2 and 3", "2 + 3 = 5."),
        row("sorry", "Add 2 and 3", "I'm sorry, but the answer is 5."),
        row("ai", "Tell me a joke", "As an AI, I do not tell jokes."),
        row("emoji", "Greet me", "Hello 😀😀😀😀 friend"),
        row("bang", "Cheer", "Great! Wonderful! Amazing! Fantastic!"),
        row("code", "Compare", "Use this:\n```python\nif a != b: print('!!!!!')\n```"),
        row("empty", "Say something", "   "),
    ]
    results = {r.id: by_signal(s) for r, s in zip(rows, judge.score(rows))}
    assert results["ok"]["pass"].value == 1.0
    assert "apologetic_opener" in results["sorry"]["pass"].reason
    assert results["ai"]["pass"].value == 0.0
    assert "emoji_overuse" in results["emoji"]["pass"].reason and results["emoji"]["emojis"].value == 4
    assert "exclamation_overuse" in results["bang"]["pass"].reason
    assert results["code"]["pass"].value == 1.0  # '!' inside code is not style
    assert results["empty"]["pass"].reason == "empty_response"


def test_rule_cleaning_bad_pattern_names_the_key():
    with pytest.raises(ConfigError, match="openers"):
        RuleCleaning(RuleCleaningConfig(openers=["(unclosed"]))


def test_quality_llm_rubric_uses_code_criteria_and_records_unparsed(row, scripted, make_services):
    def script(prompt):
        if "bug_identification" in prompt:
            return '{"bug_identification": 5, "user_intent": 4, "accuracy": 3}'
        if "Paris" in prompt:
            return "accuracy: 5\ninstruction_following: 5\ntone: 4"
        return "It is a fine answer."

    judge = QualityJudge(QualityConfig(method="llm"), make_services(scripted(script)))
    rows = [
        row("fr", "Capital of France?", "Paris."),
        row("code", "Fix my loop", "Use range(len(x)).", capability="code"),
        row("vague", "Hi", "Hello."),
    ]
    out = [by_signal(s) for s in judge.score(rows)]
    assert out[0]["rating"].value == pytest.approx(14 / 3)
    assert out[1]["rating"].value == 4.0 and "bug_identification" in out[1]
    assert out[2]["rating"].value is None and "unparsed criteria" in out[2]["rating"].reason
    assert out[2]["accuracy"].raw == "It is a fine answer."


def test_quality_reward_top_quartile(row):
    rows = [row(str(i), "q", "a", scores={REWARD_SCORE: float(i)}) for i in range(8)]
    rows.append(row("none", "q", "a"))
    judge = QualityJudge(QualityConfig(method="rm", top_fraction=0.25))
    out = [by_signal(s)["rm_top_quartile"] for s in judge.score(rows)]
    assert [s.value for s in out[:8]] == [0, 0, 0, 0, 0, 0, 1, 1]
    assert out[8].value is None and "no reward score" in out[8].reason


def test_quality_reward_top_quartile_scores_rejection_sampled_rows():
    """Rows exactly as rejection sampling writes them (the best trajectory's reward), scored
    by the judge's default configuration."""
    judged = []
    for i, reward in enumerate([0.3, 2.5, -1.0, 0.9, 1.7, 0.1, 3.2, 0.6]):
        prompt = Prompt(f"p{i}", [ChatMessage("user", f"Question {i}?")], "general", "qa", {})
        answers = [Trajectory(prompt.messages, [ChatMessage("assistant", f"answer {i}{k}")]) for k in "ab"]
        judged.append(Judged(prompt, answers, [reward, reward - 5.0], [None, None]))
    rows = rejection_sample(judged, Ledger(), round_no=0)
    assert len(rows) == 8
    out = [by_signal(s)["rm_top_quartile"] for s in QualityJudge(QualityConfig(method="rm")).score(rows)]
    assert [s.value for s in out] == [0, 1, 0, 0, 0, 0, 1, 0]  # 3.2 and 2.5: the top quarter of 8


def test_llm_judges_need_a_generator():
    with pytest.raises(ConfigError, match="generation backend"):
        QualityJudge(QualityConfig(method="llm"), None)


def test_difficulty_counts_tags_rates_and_reads(row, scripted, make_services):
    def script(prompt):
        if "InsTag" in prompt:
            return '["geometry", "proof", "step-by-step explanation"]' if "triangle" in prompt else "unsure"
        return '{"score": 3}' if "triangle" in prompt else "Difficulty: 5"

    judge = DifficultyJudge(DifficultyConfig(use_llm=True), make_services(scripted(script)))
    rows = [row("hard", "Prove that the angles of a triangle sum to 180 degrees.", "..."),
            row("easy", "Say hi.", "Hi!")]
    hard, easy = (by_signal(s) for s in judge.score(rows))
    assert hard["intent_tags"].value == 3 and hard["rating"].value == 3
    assert hard["prompt_words"].value == 11 and hard["coleman_liau_index"].value is not None
    assert easy["intent_tags"].value is None and easy["rating"].value is None
    assert "outside the scale" in easy["rating"].reason


def test_topic_llm_then_trained_classifier(row, scripted, tmp_path, make_services):
    def script(prompt):
        request = prompt.split("Request:")[-1]
        if "triangle" in request or "angle" in request:
            return '{"coarse": "math_reasoning", "fine": "geometry"}'
        if "python" in request.lower() or "function" in request:
            return '{"coarse": "code", "fine": "python"}'
        return '{"coarse": "general", "fine": "writing"}'

    prompts = (
        [f"What is the angle {i} of a triangle with sides {i}, {i+1}, {i+2}?" for i in range(12)]
        + [f"Write a python function that returns item {i} of a list" for i in range(12)]
        + [f"Write a short poem about the sea and the number {i}" for i in range(12)]
    )
    rows = [row(str(i), p, "...") for i, p in enumerate(prompts)]
    llm = TopicJudge(TopicConfig(method="llm"), make_services(scripted(script)))
    for r, scores in zip(rows, llm.score(rows)):
        store_scores(r, scores)
    assert rows[0].scores["topic.coarse.math_reasoning"] == 1.0
    assert rows[0].scores["topic.fine.geometry"] == 1.0

    path = tmp_path / "topic.npz"
    train_topic_classifier(rows, path, epochs=40)
    clf = TopicJudge(TopicConfig(method="classifier", classifier_path=str(path)))
    unseen = [row("a", "Find the third angle of a triangle", "."),
              row("b", "Write a python function to sort a list", "."),
              row("c", "Write a poem about the sea at night", ".")]
    got = [{s.signal for s in scores} for scores in clf.score(unseen)]
    assert "coarse.math_reasoning" in got[0] and "fine.geometry" in got[0]
    assert "coarse.code" in got[1]
    assert "coarse.general" in got[2]


def test_topic_classifier_path_must_exist(tmp_path):
    from herd.core.errors import InputError

    with pytest.raises(InputError, match="does not exist"):
        TopicJudge(TopicConfig(method="classifier", classifier_path=str(tmp_path / "missing.npz")))
