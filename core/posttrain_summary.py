"""What the ``posttrain`` stage records about each round, and what later stages read.

A contract between stages (posttrain writes ``round_<r>/summary.json`` and
``rounds.json``; the report stage, and any plugin that wants the rounds, reads them), so
it lives in core beside the other records that flow between stages: the report never
imports the posttrain plugin, and a second post-training implementation writes the same
files. Every file is written from these dataclasses and read back into them
(``read_round_summary``, ``read_rounds``), so a missing or misspelled field is an error
naming the file, not a ``KeyError`` in a plot.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from herd.core.errors import InputError


@dataclass
class Evaluation:
    """One model's scores: the built-in tasks (``general.<task>`` and ``general.accuracy``)
    and each registered evaluator's metrics."""

    builtin: dict[str, float] = field(default_factory=dict)
    evaluators: dict[str, dict[str, float]] = field(default_factory=dict)

    def flat(self) -> dict[str, float]:
        """``general.accuracy``, ``<evaluator>.<metric>``... in one mapping."""
        out = dict(self.builtin)
        for name, values in self.evaluators.items():
            out.update({f"{name}.{k}": v for k, v in values.items()})
        return out


@dataclass
class RoundCounts:
    synthetic_sft: int = 0
    human_sft: int = 0
    rs_prompts: int = 0
    rejection_sampled: int = 0
    rs_best_verified: int = 0
    multi_turn_trajectories: int = 0  # sampled trajectories with an environment's answer in them
    sft_rows: int = 0
    preference_pool: int = 0
    rm_pairs: int = 0
    dpo_pairs: int = 0
    dropped: int = 0


@dataclass
class SFTMix:
    by_capability: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)


@dataclass
class RewardModelSummary:
    """The averaged reward model: per-variant training loss, accuracy and margin, and the
    held-out pairwise accuracy after training and of the untrained head (round 0's)."""

    variants: int = 0
    loss_first: float | None = None
    loss_last: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    margin: list[float] = field(default_factory=list)
    heldout_pairs: int = 0
    heldout_accuracy: float | None = None
    heldout_accuracy_untrained: float | None = None


@dataclass
class SFTSummary:
    variants: int = 0
    loss_first: list[float] = field(default_factory=list)
    loss_last: list[float] = field(default_factory=list)
    packed_sequences: int = 0
    target_tokens: int = 0
    max_len: int = 0  # the packing length: the largest per-row length limit of the round's rows


@dataclass
class DPOSummary:
    variants: int = 0
    pairs: int = 0
    loss: list[float | None] = field(default_factory=list)
    nll: list[float | None] = field(default_factory=list)
    reward_margin: list[float | None] = field(default_factory=list)
    reward_accuracy: list[float | None] = field(default_factory=list)


@dataclass
class RoundSummary:
    """``round_<r>/summary.json``: written last, so its presence marks the round complete."""

    round: int
    counts: RoundCounts
    drops: dict[str, int]  # "<step>.<reason>" -> rows
    sft_mix: SFTMix
    sft_funnel: dict[str, int]
    reward_model: RewardModelSummary
    sft: SFTSummary
    dpo: DPOSummary
    evaluation: Evaluation
    baseline: Evaluation  # round 0's, the reference of every round


@dataclass
class RoundRow:
    """One row of ``rounds.json`` (what the report plots): round 0 is the starting model,
    with no SFT mix or counts."""

    round: int
    metrics: dict[str, float]
    sft_mix: dict[str, int] = field(default_factory=dict)
    counts: RoundCounts | None = None
    reward_margin: list[float | None] = field(default_factory=list)


def rounds_table(summaries: list[RoundSummary], baseline: Evaluation) -> list[RoundRow]:
    """Per round (0 = before post-training) its metrics and SFT mix by capability; the
    reward model's held-out accuracy joins the metrics (round 0: the untrained head's)."""

    def with_reward(flat: dict[str, float], value: float | None) -> dict[str, float]:
        return {**flat, "reward_model.heldout_accuracy": value} if value is not None else flat

    untrained = summaries[0].reward_model.heldout_accuracy_untrained if summaries else None
    rows = [RoundRow(0, with_reward(baseline.flat(), untrained))]
    for s in summaries:
        rows.append(RoundRow(s.round, with_reward(s.evaluation.flat(), s.reward_model.heldout_accuracy),
                             dict(s.sft_mix.by_capability), s.counts, list(s.dpo.reward_margin)))
    return rows


# ----- reading and writing ----------------------------------------------------------------


def to_json(value: Any) -> Any:
    return asdict(value) if dataclasses.is_dataclass(value) else [asdict(v) for v in value]


def round_summary_from_dict(data: dict[str, Any], where: str) -> RoundSummary:
    try:
        return RoundSummary(
            round=int(data["round"]),
            counts=_build(RoundCounts, data["counts"], where),
            drops={str(k): int(v) for k, v in data["drops"].items()},
            sft_mix=_build(SFTMix, data["sft_mix"], where),
            sft_funnel={str(k): int(v) for k, v in data["sft_funnel"].items()},
            reward_model=_build(RewardModelSummary, data["reward_model"], where),
            sft=_build(SFTSummary, data["sft"], where),
            dpo=_build(DPOSummary, data["dpo"], where),
            evaluation=_build(Evaluation, data["evaluation"], where),
            baseline=_build(Evaluation, data["baseline"], where),
        )
    except KeyError as exc:
        raise InputError(f"{where}: the round summary lacks {exc}; it was written by another herd version, "
                         "re-run the posttrain stage") from exc


def read_round_summary(path: Path) -> RoundSummary:
    return round_summary_from_dict(_read(path), str(path))


def read_evaluation(path: Path) -> Evaluation:
    """``round_0/eval.json``: the starting model's evaluation."""
    return _build(Evaluation, _read(path), str(path))


def read_rounds(path: Path) -> list[RoundRow]:
    """``rounds.json`` as typed rows."""
    rows = _read(path)
    if not isinstance(rows, list):
        raise InputError(f"{path}: expected a list of rounds, got {type(rows).__name__}")
    out = []
    for i, row in enumerate(rows):
        where = f"{path} round entry {i}"
        try:
            counts = row.get("counts")
            out.append(RoundRow(
                round=int(row["round"]),
                metrics={str(k): float(v) for k, v in row["metrics"].items() if v is not None},
                sft_mix={str(k): int(v) for k, v in row.get("sft_mix", {}).items()},
                counts=_build(RoundCounts, counts, where) if counts is not None else None,
                reward_margin=list(row.get("reward_margin", [])),
            ))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{where}: not a round row ({exc}); re-run the posttrain stage") from exc
    return out


def _read(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist; the posttrain stage writes it") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc


def _build(cls: type, data: Any, where: str) -> Any:
    """A flat dataclass from its ``asdict`` form; unknown or missing keys name the file."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: {cls.__name__} must be an object, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(f"{where}: {cls.__name__} has unknown field(s) {', '.join(unknown)}")
    return cls(**data)
