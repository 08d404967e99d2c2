"""The SFT mix is enforced (issue 15 item 8): proportions held when the data allows, rows
never invented, short capabilities said so."""

import pytest

from herd.core.errors import ConfigError
from herd.lib.sft_funnel.config import RECIPE_SFT_MIX, SFTMixConfig
from herd.lib.sft_funnel.mix import ABSENT, DOWN_SAMPLED, KEPT_ALL, NO_TARGET, SHORT, enforce_mix


def rows_of(row, counts):
    return [row(f"{cap}{i}", f"prompt {cap} {i}", "answer", capability=cap)
            for cap, n in counts.items() for i in range(n)]


def by_name(report):
    return {g.name: g for g in report.groups}


def test_over_represented_capabilities_are_down_sampled_to_the_recipe_proportions(row):
    # The shape of a default run's data: general, a lot of code, some multilingual.
    rows = rows_of(row, {"general": 192, "code": 174, "multilingual": 33})
    result = enforce_mix(rows, SFTMixConfig(), seed=3)
    groups = by_name(result.report)
    present = RECIPE_SFT_MIX["general"] + RECIPE_SFT_MIX["code"] + RECIPE_SFT_MIX["multilingual"]
    for name in ("general", "code", "multilingual"):
        assert groups[name].achieved == pytest.approx(RECIPE_SFT_MIX[name] / present, abs=0.01)
        assert groups[name].target_present == pytest.approx(RECIPE_SFT_MIX[name] / present)
    assert groups["general"].status == KEPT_ALL and groups["general"].kept == 192
    assert groups["code"].status == DOWN_SAMPLED and groups["code"].kept < 174
    # Rows are chosen, never invented; the others are accounted for with the reason.
    ids = [r.id for r in result.kept]
    assert len(set(ids)) == len(ids) and set(ids) <= {r.id for r in rows}
    assert len(result.kept) + len(result.dropped) == len(rows) == result.report.rows_in
    assert all(d.reason == "sft_mix.down_sampled" for d in result.dropped)
    # A capability with no rows is reported, not met.
    assert groups["exam"].status == ABSENT and groups["exam"].kept == 0
    assert "exam" in [g.name for g in result.report.short()]


def test_the_choice_is_seeded_and_keeps_input_order(row):
    rows = rows_of(row, {"general": 100, "code": 100})
    first = [r.id for r in enforce_mix(rows, SFTMixConfig(), seed=1).kept]
    assert first == [r.id for r in enforce_mix(rows, SFTMixConfig(), seed=1).kept]
    assert first != [r.id for r in enforce_mix(rows, SFTMixConfig(), seed=2).kept]
    order = {r.id: i for i, r in enumerate(rows)}
    assert [order[i] for i in first] == sorted(order[i] for i in first)


def test_a_capability_too_scarce_to_hold_its_share_is_short_and_kept_whole(row):
    # Holding multilingual's 3% with 1 row would leave a mix of ~23 rows out of 301.
    rows = rows_of(row, {"general": 200, "code": 100, "multilingual": 1})
    report = enforce_mix(rows, SFTMixConfig(), seed=0).report
    groups = by_name(report)
    assert groups["multilingual"].status == SHORT and groups["multilingual"].kept == 1
    assert groups["multilingual"].achieved < RECIPE_SFT_MIX["multilingual"]
    assert groups["code"].kept == 60 and groups["general"].kept == 200  # 15:50 among the rest
    assert "multilingual" in [g.name for g in report.short()]


def test_shared_targets_unknown_capabilities_and_enforcement_off(row):
    rows = rows_of(row, {"general": 100, "math": 30, "tool_use": 30, "safety": 5})
    result = enforce_mix(rows, SFTMixConfig(), seed=0)
    groups = by_name(result.report)
    shared = groups["math+tool_use"]
    assert shared.available == 60 and shared.kept == 42  # 21:50 of the 100 general rows
    assert groups["safety"].status == NO_TARGET and groups["safety"].kept == 5
    off = enforce_mix(rows, SFTMixConfig(enforce=False), seed=0)
    assert len(off.kept) == len(rows) and not off.dropped and off.report.enforced is False


def test_a_capability_in_two_targets_is_a_config_error(row):
    with pytest.raises(ConfigError, match="'code' is in both"):
        enforce_mix([], SFTMixConfig(targets={"code": 0.5, "code+general": 0.5}), seed=0)


def test_every_built_in_capability_has_a_recipe_target():
    """A capability the targets do not name is kept whole, outside the proportions: each
    built-in synthesizer's capability must be one the recipe's mix names."""
    from herd.core.plugins import load_plugins, read_builtin_registry

    registry = load_plugins(list(read_builtin_registry()), entry_points=False).registry
    named = {c for target in RECIPE_SFT_MIX for c in target.split("+")}
    capabilities = {registry.get("synthesizers", n).options.get("capability") for n in registry.names("synthesizers")}
    assert capabilities and capabilities <= named, f"capabilities without a target: {capabilities - named}"
