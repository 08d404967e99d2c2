"""Reads what the earlier stages wrote into one typed ``ReportData``.

Only files the stages document are read: their manifests, ``curate/funnel.json``, ``curate/steps/*/classifier.json``,
``mix/mix.json``, ``pretrain/**/metrics.jsonl`` (loss per step and the long-context
checks: short-context recovery and needle-in-a-haystack accuracy),
``posttrain/rounds.json``, ``evaluate/metrics.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herd.core.classifier_eval import ClassifierEval
from herd.core.posttrain_summary import RoundRow, read_rounds
from herd.plugins.report.classifiers import read_classifiers


@dataclass
class StageSummary:
    stage: str
    plugin: str
    seconds: float
    counts: dict[str, Any]
    metrics: dict[str, Any]
    notes: list[str]


@dataclass
class ReportData:
    stages: list[StageSummary] = field(default_factory=list)
    funnel: list[dict[str, Any]] = field(default_factory=list)  # one row per curation step
    classifiers: list[ClassifierEval] = field(default_factory=list)  # curate's steps/*/classifier.json
    mix_target: dict[str, float] = field(default_factory=dict)
    mix_achieved: dict[str, float] = field(default_factory=dict)
    loss_curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # per pretraining stage
    niah: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[RoundRow] = field(default_factory=list)  # posttrain's rounds.json (round 0 first)
    evaluation: dict[str, dict[str, float]] = field(default_factory=dict)


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def collect(inputs: dict[str, Path]) -> ReportData:
    data = ReportData()
    for stage, folder in inputs.items():
        manifest = _json(folder / "manifest.json")
        data.stages.append(StageSummary(stage, manifest["plugin"], manifest["seconds"],
                                        manifest["counts"], manifest["metrics"], manifest["notes"]))
    if "curate" in inputs and (inputs["curate"] / "funnel.json").exists():
        data.funnel = funnel_rows(_json(inputs["curate"] / "funnel.json"))
    if "curate" in inputs:
        data.classifiers = read_classifiers(inputs["curate"])
    if "mix" in inputs and (inputs["mix"] / "mix.json").exists():
        mix = _json(inputs["mix"] / "mix.json")
        data.mix_target, data.mix_achieved = mix.get("target", {}), mix.get("achieved", {})
    if "pretrain" in inputs:
        data.loss_curves = loss_curves(inputs["pretrain"])
        data.niah = niah_checks(inputs["pretrain"])
    if "posttrain" in inputs and (inputs["posttrain"] / "rounds.json").exists():
        data.rounds = read_rounds(inputs["posttrain"] / "rounds.json")
    if "evaluate" in inputs and (inputs["evaluate"] / "metrics.json").exists():
        data.evaluation = _json(inputs["evaluate"] / "metrics.json").get("results", {})
    return data


def funnel_rows(funnel: dict[str, Any]) -> list[dict[str, Any]]:
    steps = funnel.get("steps", funnel)
    if isinstance(steps, dict):
        return [{"step": name, **stats} for name, stats in steps.items() if isinstance(stats, dict)]
    return [{"step": row.get("step", row.get("name", "?")), **row} for row in steps if isinstance(row, dict)]


def loss_curves(folder: Path) -> dict[str, list[tuple[int, float]]]:
    curves: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.rglob("metrics.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "loss" not in row:
                continue
            name = str(row.get("phase") or row.get("stage") or path.parent.name)
            curves.setdefault(name, []).append((int(row.get("step", len(curves.get(name, [])))), float(row["loss"])))
    return curves


# ``niah_asked``: false where the step is too short for the gate's template (lib/training/niah.py).
NIAH_FIELDS = ("stage", "step", "seq_len", "tokens", "niah_accuracy", "niah_asked", "short_eval_loss", "short_baseline",
               "status")


def niah_checks(folder: Path) -> list[dict[str, Any]]:
    """The trainer's ``long_context_check`` events: one row per check of a long-context step."""
    rows = []
    for path in sorted(folder.rglob("metrics.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("event") == "long_context_check":
                rows.append({k: row.get(k) for k in NIAH_FIELDS})
    return rows


# The post-training scores a tiny run can move and a reader judges the rounds by: code
# pass@1 on held-out problems, built-in task accuracy, language match, held-out RM accuracy.
HEADLINE_SUFFIXES = ("pass@1", "general.accuracy", "language_match", "reward_model.heldout_accuracy")


def is_headline(metric: str) -> bool:
    return metric.endswith(HEADLINE_SUFFIXES)
