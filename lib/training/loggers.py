"""Optional metric loggers behind ``[run] loggers`` (TensorBoard, Weights & Biases). Both
write local files only: W&B runs in offline mode (``wandb sync`` uploads later, if ever).
``metrics.jsonl`` is written whatever this list holds; these mirror it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, Sequence

from herd.core.errors import ConfigError
from herd.core.metrics import StepMetrics, logger_problems

SCALARS = ("loss", "lr", "grad_norm", "tokens_per_s", "mfu")


class MetricLogger(Protocol):
    def log(self, metrics: StepMetrics) -> None: ...

    def close(self) -> None: ...


class TensorBoardLogger:
    """Event files under ``directory``: ``train/<field>`` per step, ``val/loss`` where the
    loop validated."""

    def __init__(self, directory: Path):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(directory))

    def log(self, metrics: StepMetrics) -> None:
        for key in SCALARS:
            self.writer.add_scalar(f"train/{key}", getattr(metrics, key), metrics.step)
        if metrics.val_loss is not None:
            self.writer.add_scalar("val/loss", metrics.val_loss, metrics.step)

    def close(self) -> None:
        self.writer.close()  # flushes the event file


class WandbLogger:
    """An offline W&B run in ``directory/wandb`` (``WANDB_MODE`` forced to offline)."""

    def __init__(self, directory: Path, name: str):
        import wandb

        os.environ["WANDB_MODE"] = "offline"
        os.environ.setdefault("WANDB_SILENT", "true")
        directory.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(project="herd", name=name, dir=str(directory), mode="offline", reinit=True)

    def log(self, metrics: StepMetrics) -> None:
        values = {f"train/{key}": getattr(metrics, key) for key in SCALARS}
        if metrics.val_loss is not None:
            values["val/loss"] = metrics.val_loss
        self.run.log(values, step=metrics.step)

    def close(self) -> None:
        self.run.finish()


def open_loggers(names: Sequence[str], directory: Path, name: str) -> list[MetricLogger]:
    """The loggers ``names`` asks for, writing under ``directory`` (a stage's or a job's
    output folder); ``name`` labels the W&B run. A missing package is a ``ConfigError``
    naming it (``run.loggers`` is checked before a run starts too)."""
    problems = logger_problems(list(names))
    if problems:
        raise ConfigError("; ".join(problems))
    loggers: list[MetricLogger] = []
    for logger in names:
        if logger == "tensorboard":
            loggers.append(TensorBoardLogger(directory / "tensorboard"))
        elif logger == "wandb":
            loggers.append(WandbLogger(directory, name))
    return loggers
