"""Per-step training metrics: the ``metrics.jsonl`` every training loop writes into its
stage or round directory, one JSON object a line, and the typed reader others use.

A line is one of:

- a step record (``"event": "step"``): the fields of ``StepMetrics``;
- a validation record (``"event": "validation"``): ``step``, ``phase``, ``val_loss``,
  written after the step it evaluated; ``read_metrics`` folds it into that step's
  ``val_loss``;
- any other event (``long_context_check``, ...): kept by the writer, skipped by
  ``read_metrics``.

Records written before the ``event`` field existed (a step line without it, with
``stage`` for ``phase`` and no ``elapsed_seconds``) still read.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"


@dataclass(frozen=True)
class StepMetrics:
    """One optimizer step. ``phase``: the pretraining stage's name (``initial``,
    ``long_96``, ``anneal``...) or the post-training job's kind (``sft``, ``dpo``,
    ``reward_model``). ``tokens``: tokens trained so far in this loop's file, this step
    included. ``tokens_per_s``: this step's global tokens over its wall time. ``mfu``:
    ``flops_per_token * tokens_per_s / peak`` (0.0 when the peak is unknown).
    ``batch_tokens``: this step's global tokens; ``seq_len``: its sequence length (0 where
    a batch's rows differ: post-training pads to the longest row).
    ``val_loss``: the loop's validation loss after this step, where it computed one."""

    step: int
    phase: str
    tokens: int
    loss: float
    lr: float
    grad_norm: float
    tokens_per_s: float
    elapsed_seconds: float
    mfu: float = 0.0
    batch_tokens: int = 0
    seq_len: int = 0
    val_loss: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"event": "step", **asdict(self)}


@dataclass(frozen=True)
class Validation:
    step: int
    phase: str
    val_loss: float

    def to_json(self) -> dict[str, Any]:
        return {"event": "validation", **asdict(self)}


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one line; the file is reopened each time so a reader (the report, a
    ``tail -f``) always sees whole lines, and a resumed run can truncate it."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def read_metrics(path: Path) -> list[StepMetrics]:
    """The step records of ``path`` in file order, each with the validation loss written
    for its step (a torn last line, from a killed run, is ignored)."""
    steps: list[StepMetrics] = []
    validations: dict[tuple[str, int], float] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        event = row.get("event", "step" if "loss" in row else "")
        if event == "validation":
            validations[(str(row["phase"]), int(row["step"]))] = float(row["val_loss"])
        elif event == "step":
            steps.append(_step(row, path, number))
    if not validations:
        return steps
    return [_with_val(s, validations.get((s.phase, s.step))) for s in steps]


def _step(row: dict[str, Any], path: Path, number: int) -> StepMetrics:
    try:
        return StepMetrics(step=int(row["step"]), phase=str(row.get("phase", row.get("stage", ""))),
                           tokens=int(row["tokens"]), loss=float(row["loss"]), lr=float(row["lr"]),
                           grad_norm=float(row["grad_norm"]), tokens_per_s=float(row["tokens_per_s"]),
                           elapsed_seconds=float(row.get("elapsed_seconds", 0.0)), mfu=float(row.get("mfu", 0.0)),
                           batch_tokens=int(row.get("batch_tokens", 0)), seq_len=int(row.get("seq_len", 0)),
                           val_loss=None if row.get("val_loss") is None else float(row["val_loss"]))
    except KeyError as missing:
        raise ValueError(f"{path}:{number}: step record lacks {missing} (core/metrics.py StepMetrics)") from None


def _with_val(step: StepMetrics, val: float | None) -> StepMetrics:
    if val is None or not math.isfinite(val):
        return step
    from dataclasses import replace

    return replace(step, val_loss=val)


# ``[run] loggers``: where step metrics go besides metrics.jsonl, and the package each needs.
LOGGER_PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb"}


def logger_problems(names: list[str], key: str = "run.loggers") -> list[str]:
    """One message per logger of ``names`` that is unknown or whose package is missing."""
    import importlib.util

    problems = []
    for name in names:
        package = LOGGER_PACKAGES.get(name)
        if package is None:
            problems.append(f"'{key}' names '{name}', not a logger (known: {', '.join(LOGGER_PACKAGES)})")
        elif importlib.util.find_spec(package) is None:
            problems.append(f"'{key}' asks for '{name}' but the '{package}' package is not installed: "
                            f"pip install {package} (or pip install 'herd[loggers]'), or drop it from {key}")
    return problems
