"""The round's SFT data in the built-in profiles (issue 15 items 8 and 11): every judge runs
without a capable LLM, every kept row carries its language, topic, quality and
difficulty, and the mix is enforced and reported."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

import pytest

from herd.core.app import App
from herd.core.pipeline import StageContext
from herd.core.plugins import REGISTRY_PATH
from herd.core.records import REWARD_SCORE, ChatMessage, SFTRow
from herd.core.services import Services
from herd.lib.sft_funnel.report import read_sft_data_report, write_sft_data_report
from herd.plugins.posttrain.round_state import Ledger
from herd.plugins.posttrain.sft_step import sft_funnel
from herd.plugins.report.sft_data import sft_data_sections


class ResponseLengthScorer:
    """A reward source (``judging.RewardSource``) whose score is the response's length."""

    def __init__(self):
        self.scored: list[str] = []

    def score(self, prompt_messages, responses):
        self.scored.append(prompt_messages[-1].content)
        return [float(sum(len(m.content) for m in turns)) for turns in responses]


def quick_context(tmp_path: Path) -> StageContext:
    data = tomllib.loads(Path(REGISTRY_PATH).read_text())["plugins"]
    registry = tmp_path / "registry.toml"
    registry.write_text("\n".join(f"[plugins.{name}]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in data[name].items())
                                  for name in ("llama", "posttrain", "judges")) + "\n")
    app = App.create(profile="quick", registry_path=registry, entry_points=False)
    return StageContext(name="posttrain", config=app.config, workdir=tmp_path, inputs={}, registry=app.registry,
                        plugins=list(app.plugins.active), log=logging.getLogger("test"), resuming=False,
                        run_dir=tmp_path, profile="quick")


def message_rows() -> list[SFTRow]:
    def row(row_id, prompt, response, capability="general", **kw):
        return SFTRow(row_id, [ChatMessage("user", prompt), ChatMessage("assistant", response)], capability=capability, **kw)

    rows = [row(f"g{i}", f"What is {i} plus {i + 3}?", f"{i} plus {i + 3} is {2 * i + 3}.") for i in range(12)]
    rows += [row(f"c{i}", f'def add_{i}(x):\n    """Return x plus {i}."""\n', f"    return x + {i}\n", "code")
             for i in range(12)]
    rows += [row("fr", "Quelle est la capitale de la France ?", "C'est Paris.", "multilingual"),
             row("sorry", "Name a colour.", "I'm sorry, but as an AI I cannot see colours.")]
    rows.append(row("rs", "What is 2 plus 2?", "4", source="rejection_sampling", scores={REWARD_SCORE: 9.0}))
    return rows


@pytest.mark.slow
def test_quick_profile_funnel_labels_every_row_and_enforces_the_mix(tmp_path):
    ctx = quick_context(tmp_path)
    rows = message_rows()
    scorer = ResponseLengthScorer()
    ledger = Ledger()
    funnel = sft_funnel(ctx, Services(ctx), rows, ledger, round_no=1, seed=5, scorer=scorer)

    # Every judge ran with no generator; the rejection-sampled row kept the score that chose it.
    assert [step.judge for step in funnel.report.judges] == ["rule_cleaning", "language", "quality", "difficulty", "topic"]
    assert len(scorer.scored) == len(rows) - 1
    for row in funnel.rows:
        assert row.language and row.topic and row.quality in (1, 2, 3, 4) and row.difficulty in (1, 2, 3), row
    by_id = {row.id: row for row in funnel.rows}
    assert by_id["fr"].language == "fr" and by_id["g1"].topic == "math_reasoning" and by_id["c1"].topic == "code"
    steps = {step.judge: step for step in funnel.report.judges}
    assert steps["rule_cleaning"].dropped == 1 and steps["topic"].labelled == steps["topic"].rows_in == 26
    assert not any(r.topic for r in rows)  # the caller's rows (human data: every round) are left unmarked

    # The mix: 12 general rows and 15:50 code, so 4 code rows (a seeded choice) among 17.
    mix = {g.name: g for g in funnel.report.mix.groups}
    assert mix["general"].kept == 13 and mix["code"].kept == 4 and mix["code"].status == "down_sampled"
    assert funnel.counts["dropped.sft_mix.down_sampled"] == 8 == sum(
        1 for d in ledger.drops if d.reason.startswith("sft_mix.down_sampled"))
    assert len(funnel.rows) == funnel.report.mix.rows_out == 18

    # What the round writes is read back typed, and the report shows it by judge and mix.
    write_sft_data_report(tmp_path / "round_1" / "sft_data.json", funnel.report)
    assert read_sft_data_report(tmp_path / "round_1" / "sft_data.json") == funnel.report
    sections = {title: rows for title, _, rows, _ in sft_data_sections(tmp_path)}
    assert ["1", "rule_cleaning", "27", "1", "27"] in sections["SFT funnel by judge"]
    assert any(r[1] == "code" and r[-1] == "down_sampled" for r in sections["SFT mix: achieved vs target"])
    assert any("exam: absent" in r[1] for r in sections["SFT mix: capabilities short of data"])
