"""The report's training curves, read from every training loop's ``metrics.jsonl``
(``core/metrics.py``): per pretraining stage the training and validation loss, learning
rate, gradient norm and throughput; the same for each other training stage (the code
expert); the reward-model, SFT and DPO losses of every post-training round.

Each figure has a table beside it (steps, tokens, first and last loss, last validation
loss, mean tokens/s and MFU per training phase or job)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from herd.core.metrics import METRICS_FILE, StepMetrics, read_metrics  # noqa: E402
from herd.plugins.report.plots import png_bytes  # noqa: E402

PRETRAIN, POSTTRAIN = "pretrain", "posttrain"
POST_KINDS = ("reward_model", "sft", "dpo")  # the order a round trains them in (docs/recipe.md section 5)

CAPTIONS = {
    "training_pretrain": "Pretraining: training and validation loss, learning rate and gradient norm per stage",
    "training_experts": "Expert training (the code expert's continued pretraining): loss, learning rate and "
                        "gradient norm",
    "training_posttrain": "Post-training: reward-model, SFT and DPO loss per step of every job, one row per round",
    "training_throughput": "Training throughput: tokens/s per step of every training loop (wall-clock: it differs "
                           "from run to run; the legend gives each loop's mean tokens/s and MFU)",
}


@dataclass
class Curve:
    """One training loop's steps: ``stage`` the pipeline stage that ran it; ``group`` the
    post-training round (``round_1``) or ``""``; ``job`` its folder (``train``,
    ``sft_0``...); ``phase`` the steps' phase (a pretraining stage, or ``sft``...)."""

    stage: str
    group: str
    job: str
    phase: str
    steps: list[StepMetrics]

    @property
    def validation(self) -> list[StepMetrics]:
        return [s for s in self.steps if s.val_loss is not None]


def read_curves(inputs: dict[str, Path]) -> list[Curve]:
    """Every ``metrics.jsonl`` under the stages' folders, one curve per (file, phase)."""
    curves = []
    for stage, folder in inputs.items():
        for path in sorted(Path(folder).rglob(METRICS_FILE)):
            steps = read_metrics(path)
            relative = path.parent.relative_to(folder).parts
            group = next((p for p in relative if p.startswith("round_")), "") if stage == POSTTRAIN else ""
            for phase in dict.fromkeys(s.phase for s in steps):
                curves.append(Curve(stage, group, path.parent.name, phase, [s for s in steps if s.phase == phase]))
    curves = [c for c in curves if c.steps]
    post = sorted((c for c in curves if c.stage == POSTTRAIN), key=_job_order)
    return [c for c in curves if c.stage != POSTTRAIN] + post


def _job_order(c: Curve) -> tuple[int, int, str]:
    """Rounds in order, and in a round its jobs in the order they train."""
    kind = POST_KINDS.index(c.phase) if c.phase in POST_KINDS else len(POST_KINDS)
    return _round_number(c.group), kind, c.job


def figures(curves: list[Curve]) -> dict[str, bytes]:
    """PNG bytes per figure name of ``CAPTIONS`` that has data."""
    out = {}
    pre = [c for c in curves if c.stage == PRETRAIN]
    experts = [c for c in curves if c.stage not in (PRETRAIN, POSTTRAIN)]
    post = [c for c in curves if c.stage == POSTTRAIN]
    if pre:
        out["training_pretrain"] = _panels(pre, "Pretraining")
    if experts:
        out["training_experts"] = _panels(experts, "Expert training")
    if post:
        out["training_posttrain"] = _rounds(post)
    if curves:
        out["training_throughput"] = _throughput(curves)
    return out


def sections(curves: list[Curve]) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    """(title, header, rows, figure name) per figure, as the report's ``build_sections``."""
    header = ["stage", "phase", "steps", "tokens", "first loss", "last loss", "last val loss"]
    out = []
    for title, name, picked in (("Pretraining curves", "training_pretrain", [c for c in curves if c.stage == PRETRAIN]),
                                ("Expert training curves", "training_experts",
                                 [c for c in curves if c.stage not in (PRETRAIN, POSTTRAIN)])):
        if picked:
            out.append((title, header, [[c.stage, c.phase] + _summary(c) for c in picked], name))
    post = [c for c in curves if c.stage == POSTTRAIN]
    if post:
        out.append(("Post-training curves", ["round", "job", "kind", "steps", "tokens", "first loss", "last loss",
                                              "last val loss"],
                    [[c.group, c.job, c.phase] + _summary(c) for c in post], "training_posttrain"))
    if curves:
        # Wall-clock figures stay in their own picture: the tables above repeat from run to run.
        out.append(("Training throughput", ["stage", "round", "job", "phase"],
                    [[c.stage, c.group, c.job, c.phase] for c in curves], "training_throughput"))
    return out


def _summary(c: Curve) -> list[str]:
    val = c.validation
    return [str(len(c.steps)), str(c.steps[-1].tokens), f"{c.steps[0].loss:.4f}", f"{c.steps[-1].loss:.4f}",
            f"{val[-1].val_loss:.4f}" if val else ""]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _label(c: Curve) -> str:
    return c.phase if c.stage == PRETRAIN else f"{c.stage} {c.phase}"


def _panels(curves: list[Curve], title: str) -> bytes:
    """Loss (validation points on top), learning rate and gradient norm against the step,
    one line per training phase."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    loss, lr, grad = axes.flat
    for c in curves:
        steps = [s.step for s in c.steps]
        line = _loss_line(loss, c, _label(c))
        if c.validation:
            loss.plot([s.step for s in c.validation], [s.val_loss for s in c.validation], "o",
                      color=line.get_color(), markersize=5, label=f"{_label(c)} validation")
        lr.plot(steps, [s.lr for s in c.steps], label=_label(c))
        grad.plot(steps, [s.grad_norm for s in c.steps], label=_label(c), linewidth=1)
    for ax, name in ((loss, "loss"), (lr, "learning rate"), (grad, "gradient norm (before clipping)")):
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    loss.legend(fontsize=7, loc="upper right")
    fig.suptitle(title)
    return png_bytes(fig)


def _throughput(curves: list[Curve]) -> bytes:
    fig, ax = plt.subplots(figsize=(10, 4))
    for c in curves:
        label = f"{c.stage} {c.group} {c.job} {c.phase}".replace("  ", " ")
        ax.plot([s.step for s in c.steps], [s.tokens_per_s for s in c.steps], linewidth=1,
                label=f"{label}: {_mean([s.tokens_per_s for s in c.steps]):.4g} tok/s, "
                      f"MFU {_mean([s.mfu for s in c.steps]):.2%}")
    ax.set_xlabel("step")
    ax.set_ylabel("tokens / s")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return png_bytes(fig)


def _rounds(curves: list[Curve]) -> bytes:
    """One row per round, one column per job kind; a line per job (variants: seeds and
    learning-rate scales)."""
    rounds = sorted(dict.fromkeys(c.group for c in curves), key=_round_number)
    kinds = [k for k in POST_KINDS if any(c.phase == k for c in curves)]
    kinds += sorted({c.phase for c in curves} - set(kinds))
    fig, axes = plt.subplots(len(rounds), len(kinds), figsize=(3.6 * len(kinds), 2.8 * len(rounds)), squeeze=False)
    for i, group in enumerate(rounds):
        for j, kind in enumerate(kinds):
            ax = axes[i][j]
            for c in (c for c in curves if c.group == group and c.phase == kind):
                _loss_line(ax, c, c.job)
            ax.set_title(f"{group.replace('_', ' ')}: {kind.replace('_', ' ')}", fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.set_ylabel("loss", fontsize=8)
            ax.tick_params(labelsize=7)
            if ax.lines:
                ax.legend(fontsize=6)
    return png_bytes(fig)


def _loss_line(ax, c: Curve, label: str):
    """The per-step loss; a long noisy loop (post-training's small batches) is drawn faint
    with its running mean over a fiftieth of the steps on top; a loop of a few steps gets
    markers, so a single step still shows."""
    steps, losses = [s.step for s in c.steps], [s.loss for s in c.steps]
    window = len(losses) // 50
    if window < 2:
        line, = ax.plot(steps, losses, label=label, linewidth=1, marker="o" if len(steps) <= 20 else None,
                        markersize=3)
        return line
    line, = ax.plot(steps, losses, linewidth=0.6, alpha=0.3)
    means = [sum(losses[max(0, i - window + 1):i + 1]) / (i + 1 - max(0, i - window + 1)) for i in range(len(losses))]
    ax.plot(steps, means, color=line.get_color(), linewidth=1.2, label=f"{label} (mean of {window})")
    return line


def _round_number(group: str) -> int:
    digits = group.removeprefix("round_")
    return int(digits) if digits.isdigit() else 0
