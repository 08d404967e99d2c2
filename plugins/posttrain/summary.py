"""What a round and the stage leave behind: the round's data files, ``summary.json`` per
round (``herd.core.posttrain_summary.RoundSummary``), the stage's ``summary.json`` and
``rounds.json``, and the stage result the pipeline's manifest records."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from herd.core import atomic
from herd.core.pipeline import StageResult
from herd.core.posttrain_summary import Evaluation, RoundSummary, SFTMix, rounds_table, to_json
from herd.core.records import PreferenceRow, SFTRow
from herd.core.samples import SAMPLES_FILE, read_samples, write_samples
from herd.lib.posttraining.rows import preference_row_to_dict, sft_row_to_dict
from herd.plugins.posttrain.data import write_jsonl
from herd.plugins.posttrain.round_state import Ledger


def sft_mix(rows: list[SFTRow]) -> SFTMix:
    return SFTMix(by_capability=dict(Counter(r.capability for r in rows)),
                  by_category=dict(Counter(f"{r.capability}/{r.category}" for r in rows)))


def write_round_data(data_dir: Path, sft_rows: list[SFTRow], synthetic_preferences: list[PreferenceRow],
                     online_pairs: list[PreferenceRow], ledger: Ledger) -> None:
    write_jsonl(data_dir / "sft_mix.jsonl", [sft_row_to_dict(x) for x in sft_rows])
    write_jsonl(data_dir / "synthetic_preferences.jsonl", [preference_row_to_dict(x) for x in synthetic_preferences])
    write_jsonl(data_dir / "online_pairs.jsonl", [preference_row_to_dict(x) for x in online_pairs])
    write_jsonl(data_dir / "drops.jsonl", ledger.records())


def write_json(path: Path, data: Any) -> None:
    atomic.write_json(path, data)


def write_stage_files(work: Path, summaries: list[RoundSummary], baseline: Evaluation) -> None:
    """``summary.json`` (every round's evaluation against round 0) and ``rounds.json``."""
    write_json(work / "summary.json", {
        "rounds": len(summaries),
        "baseline": asdict(baseline),
        "per_round": [{"round": s.round, **asdict(s.evaluation)} for s in summaries],
    })
    write_json(work / "rounds.json", to_json(rounds_table(summaries, baseline)))
    # Every round's samples in one file, round 0 first (each round wrote its own).
    rounds = [work / f"round_{r}" / SAMPLES_FILE for r in [0] + [s.round for s in summaries]]
    write_samples(work / SAMPLES_FILE, [m for path in rounds if path.is_file() for m in read_samples(path)])


def stage_result(summaries: list[RoundSummary], baseline: Evaluation) -> StageResult:
    counts: dict[str, int] = {"rounds": len(summaries)}
    metrics: dict[str, float] = {"round_0.general.accuracy": baseline.builtin["general.accuracy"]}
    for s in summaries:
        r = s.round
        counts.update({f"round_{r}.sft_rows": s.counts.sft_rows, f"round_{r}.dpo_pairs": s.counts.dpo_pairs,
                       f"round_{r}.rejection_sampled": s.counts.rejection_sampled,
                       f"round_{r}.dropped": s.counts.dropped})
        metrics.update({f"round_{r}.{k}": float(v) for k, v in s.evaluation.flat().items()})
        if s.reward_model.heldout_accuracy is not None:
            metrics[f"round_{r}.reward_model.heldout_accuracy"] = float(s.reward_model.heldout_accuracy)
    notes = []
    if summaries:
        last = summaries[-1].evaluation.builtin["general.accuracy"]
        notes.append(f"built-in general tasks: accuracy {baseline.builtin['general.accuracy']:.3f} at round 0 -> "
                     f"{last:.3f} after round {summaries[-1].round}")
    return StageResult(counts=counts, metrics=metrics, notes=notes)
