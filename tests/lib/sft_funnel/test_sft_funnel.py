"""The SFT funnel: every row kept or dropped with judge and reason; counts conserved."""

import logging

from herd.core.config import load_config
from herd.core.pipeline import StageContext
from herd.core.plugins import load_plugins
from herd.core.services import Services
from herd.lib.sft_funnel.config import SFTFunnelConfig
from herd.lib.sft_funnel.funnel import build_funnel, run_funnel
from herd.plugins.judges.config import DifficultyConfig, QualityConfig, TopicConfig
from herd.plugins.judges.topic import featurize


def judge_script(prompt):
    if "Rate each criterion" in prompt:
        if "wrong answer" in prompt:
            return '{"accuracy": 1, "instruction_following": 2, "tone": 3}'
        if "mumble" in prompt:
            return "hard to say"
        return "accuracy: 5\ninstruction_following: 4\ntone: 5"
    if "InsTag" in prompt:
        return '["arithmetic"]'
    if "How difficult" in prompt:
        return "Score: 2/3"
    return '{"coarse": "general", "fine": "knowledge_qa"}'


def make_rows(row):
    rows = [row(f"q{i}", f"What is {i} plus {i * 7}?", f"It is {i + i * 7}.") for i in range(10)]
    rows += [
        row("dup1", "What is 3 plus 21?", "3 + 21 = 24."),  # same prompt as q3
        row("sorry", "Name a prime.", "I'm sorry, but 7 is prime."),
        row("wrong", "What is 2 plus 2? (wrong answer)", "5"),
        row("unparsed", "mumble", "ok"),
    ]
    return rows


def hashed_embed(texts):
    return featurize(texts, 1024)


def test_funnel_conserves_rows_and_records_reasons(row, scripted, tmp_path, make_services):
    from herd.plugins.judges import _difficulty, _quality, _rule_cleaning, _topic

    services = make_services(scripted(judge_script))
    cfg = SFTFunnelConfig()
    llm = [QualityConfig(method="llm"), DifficultyConfig(use_llm=True), TopicConfig(method="llm")]
    judges = [("rule_cleaning", _rule_cleaning(None, services))]
    judges += [(n, f(c, services)) for n, f, c in zip(("quality", "difficulty", "topic"), (_quality, _difficulty, _topic), llm)]
    rows = make_rows(row)
    result = run_funnel(rows, judges, cfg, hashed_embed)

    c = result.counts
    assert c["input"] == len(rows) == c["kept"] + c["dropped"] == len(result.kept) + len(result.dropped)
    ids = sorted([r.id for r in result.kept] + [d.row.id for d in result.dropped])
    assert ids == sorted(r.id for r in rows)
    why = {d.row.id: d for d in result.dropped}
    assert why["sorry"].judge == "rule_cleaning" and why["sorry"].reason == "rule_cleaning.rejected"
    assert why["wrong"].judge == "quality" and why["wrong"].reason == "quality.rating.below_min"
    assert why["dup1"].judge == "semantic_dedup" and "q3" in why["dup1"].detail
    assert "unparsed" not in why  # unparsed scores are recorded, not dropped, by default
    unparsed = next(r for r in result.kept if r.id == "unparsed")
    assert unparsed.scores["quality.rating"] is None
    assert "unparsed criteria" in unparsed.metadata["judge_notes"]["quality.rating"]
    kept = result.kept[0]
    assert kept.scores["quality.rating"] == 14 / 3 and kept.scores["difficulty.rating"] == 2.0
    assert kept.scores["topic.coarse.general"] == 1.0
    assert c["after.rule_cleaning"] == len(rows) - 1
    assert c["dropped.semantic_dedup.near_duplicate"] == 1


def test_funnel_drops_unparsed_when_configured(row, scripted, make_services):
    from herd.plugins.judges import _quality

    cfg = SFTFunnelConfig(drop_unparsed=True, semantic_dedup=False)
    judge = _quality(QualityConfig(method="llm"), make_services(scripted(judge_script)))
    result = run_funnel(make_rows(row), [("quality", judge)], cfg)
    reasons = {d.row.id: d.reason for d in result.dropped}
    assert reasons == {"wrong": "quality.rating.below_min", "unparsed": "quality.rating.unparsed"}
    assert result.counts["kept"] + result.counts["dropped"] == result.counts["input"]


def test_plugin_registers_and_builds_from_config(tmp_path, row, scripted):
    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins.judges]\nmodule = "herd.plugins.judges"\nalways = true\n')
    loaded = load_plugins(registry_path=registry, entry_points=False)
    kinds = {c.name: c.options["kind"] for c in loaded.registry.of_plugin("judges")}
    assert kinds == {"rule_cleaning": "rule", "language": "language", "topic": "topic", "quality": "quality",
                     "difficulty": "difficulty"}
    config = load_config(loaded.registry, profile="quick", overrides=[
        'sft_funnel.funnel=["rule_cleaning", "quality"]', "sft_funnel.semantic_dedup=false",
        "judges.rule_cleaning.max_exclamations=0",
    ])
    ctx = StageContext("posttrain", config, tmp_path, {}, loaded.registry, loaded.active,
                       logging.getLogger("test"), False, tmp_path, "quick")
    judges, cfg, embed = build_funnel(ctx, Services(ctx, generator=scripted(judge_script)))
    assert [n for n, _ in judges] == ["rule_cleaning", "quality"] and embed is None
    result = run_funnel([row("a", "Hi", "Hello!"), row("b", "Hi", "Hello.")], judges, cfg, embed)
    assert [r.id for r in result.kept] == ["b"]
    assert "exclamation_overuse" in result.dropped[0].detail


def test_rows_with_verifiable_answers_skip_semantic_dedup(row):
    """Templated tasks that differ by a constant embed alike but teach different answers."""
    rows = [row("a", "What is 3 plus 21?", "24."), row("a_dup", "What is 3 plus 21?", "It is 24.")]
    checked = [row("t1", "What is 3 plus 21?", "24."), row("t2", "What is 3 plus 21?", "24.")]
    for r in checked:
        r.metadata["answer"] = "24"
    result = run_funnel(rows + checked, [], SFTFunnelConfig(), hashed_embed)
    assert sorted(r.id for r in result.kept) == ["a", "t1", "t2"]
    assert [d.row.id for d in result.dropped] == ["a_dup"]
    assert result.counts["semantic_dedup.exempt"] == 2 and result.counts["after.semantic_dedup"] == 3
