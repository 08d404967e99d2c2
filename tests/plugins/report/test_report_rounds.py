"""The report reads post-training's rounds through the typed contract in core
(``herd.core.posttrain_summary``), not through the posttrain plugin or dict keys."""

from __future__ import annotations

import json

import pytest

from herd.core import atomic
from herd.core.errors import InputError
from herd.core.posttrain_summary import (
    DPOSummary,
    Evaluation,
    RewardModelSummary,
    RoundCounts,
    RoundSummary,
    SFTMix,
    SFTSummary,
    rounds_table,
    to_json,
)
from herd.plugins.report import plots
from herd.plugins.report.collect import collect
from herd.plugins.report.stage import build_sections


def _summary(r: int, accuracy: float) -> RoundSummary:
    return RoundSummary(
        round=r, counts=RoundCounts(sft_rows=10 * r), drops={}, sft_mix=SFTMix({"general": 8, "code": 2 * r}),
        sft_funnel={}, reward_model=RewardModelSummary(heldout_accuracy=0.5 + 0.1 * r, heldout_accuracy_untrained=0.4),
        sft=SFTSummary(), dpo=DPOSummary(reward_margin=[0.2]),
        evaluation=Evaluation({"general.accuracy": accuracy}, {"code_pass_at_k": {"code.pass@1": accuracy / 2}}),
        baseline=Evaluation({"general.accuracy": 0.1}),
    )


def _stage_dir(tmp_path, rows) -> dict:
    folder = tmp_path / "posttrain"
    atomic.write_json(folder / "manifest.json", {"plugin": "posttrain", "seconds": 1.0, "counts": {}, "metrics": {},
                                                 "notes": []})
    atomic.write_json(folder / "rounds.json", rows)
    return {"posttrain": folder}


def test_rounds_table_reaches_the_report_sections_and_plots(tmp_path):
    baseline = Evaluation({"general.accuracy": 0.1})
    table = rounds_table([_summary(1, 0.3), _summary(2, 0.5)], baseline)
    data = collect(_stage_dir(tmp_path, to_json(table)))
    assert [r.round for r in data.rounds] == [0, 1, 2]
    assert data.rounds[0].metrics == {"general.accuracy": 0.1, "reward_model.heldout_accuracy": 0.4}
    assert data.rounds[2].counts.sft_rows == 20
    sections = {name: rows for name, _, rows, _ in build_sections(data)}
    accuracy = next(row for row in sections["Post-training rounds"] if row[0] == "general.accuracy")
    assert accuracy == ["general.accuracy", "0.1", "0.3", "0.5"]
    assert sections["SFT data mix"][2] == ["2", "code=4, general=8"]
    assert plots.rounds(data) is not None and plots.sft_mix(data) is not None


def test_a_malformed_rounds_file_is_an_error_naming_it(tmp_path):
    inputs = _stage_dir(tmp_path, [{"round": 0}])
    with pytest.raises(InputError, match=r"rounds.json round entry 0"):
        collect(inputs)
    (inputs["posttrain"] / "rounds.json").write_text(json.dumps({"round": 0}))
    with pytest.raises(InputError, match="expected a list of rounds"):
        collect(inputs)
