"""Planning and running an IsoFLOP sweep with any trainer backend, then fitting it.

``plan_sweep`` turns budgets and candidate model shapes into runs (tokens = C / FLOPs per
token, counting attention); ``run_sweep`` trains each with the trainer and reads its
validation loss; ``fit_sweep`` fits the per-budget parabolas and the power law and writes
``sweep.json`` with plots."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from herd.core.errors import ConfigError
from herd.core.protocols import ParallelSizes, TrainJob, TrainStage
from herd.plugins.scaling.laws import ParabolaFit, PowerLaw, fit_parabola, fit_power_law, predict


@dataclass
class SweepRun:
    budget: float
    shape: str
    params: int
    tokens: int
    loss: float | None = None

    @property
    def name(self) -> str:
        return f"C{self.budget:.2e}_{self.shape}"


@dataclass
class SweepReport:
    runs: list[SweepRun]
    parabolas: list[ParabolaFit] = field(default_factory=list)
    law: PowerLaw | None = None
    target_budget: float = 0.0
    prediction: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def shape_config(shape: str, vocab_size: int, seq_len: int) -> dict[str, int]:
    """``"DIMxLAYERS"`` -> model fields: head size 16, half as many KV heads, SwiGLU FFN ~8/3 dim."""
    try:
        dim, layers = (int(v) for v in shape.lower().split("x"))
    except ValueError:
        raise ConfigError(f"[scaling] shapes: {shape!r} is not 'DIMxLAYERS' (e.g. '64x2')") from None
    heads = max(1, dim // 16)
    return {"dim": dim, "n_layers": layers, "n_heads": heads, "n_kv_heads": max(1, heads // 2),
            "ffn_dim": int(math.ceil(8 * dim / 3 / 8) * 8), "vocab_size": vocab_size, "max_seq_len": seq_len}


def plan_sweep(budgets: list[float], shapes: list[str], vocab_size: int, seq_len: int, min_tokens: int) -> list[SweepRun]:
    from herd.lib.llama.model import LlamaConfig

    runs = []
    for budget in budgets:
        for shape in shapes:
            cfg = LlamaConfig(**shape_config(shape, vocab_size, seq_len))
            tokens = int(budget / cfg.flops_per_token(seq_len))
            if tokens >= min_tokens:
                runs.append(SweepRun(budget, shape, cfg.num_params(embeddings=False), tokens))
    return runs


def run_sweep(runs: list[SweepRun], trainer, data_dir: Path, eval_dir: Path, out_dir: Path, *, vocab_size: int,
              seq_len: int, batch_tokens: int, lr: float, seed: int = 0) -> list[SweepRun]:
    """Train every planned run (skipping those already done in ``out_dir``)."""
    for run in runs:
        result_file = out_dir / run.name / "loss.json"
        if result_file.is_file():
            run.loss = json.loads(result_file.read_text())["loss"]
            continue
        stage = TrainStage("initial", "initial", run.tokens, seq_len, lr, lr / 10, batch_tokens=batch_tokens,
                           warmup_steps=max(1, run.tokens // batch_tokens // 10))
        job = TrainJob(model={"size": "tiny", **shape_config(run.shape, vocab_size, seq_len)}, stages=[stage],
                       parallel=ParallelSizes(), output_dir=out_dir / run.name, data_dir=data_dir,
                       eval_dir=eval_dir, seed=seed)
        result = trainer.train(job)
        run.loss = float(result.metrics["initial.short_eval_loss"])
        result_file.write_text(json.dumps({"loss": run.loss, "tokens": run.tokens, "params": run.params}) + "\n")
    return runs


def fit_sweep(runs: list[SweepRun], target_budget: float) -> SweepReport:
    report = SweepReport(runs=runs, target_budget=target_budget)
    budgets = sorted({r.budget for r in runs})
    optimal_b, optimal_t = [], []
    for budget in budgets:
        mine = [r for r in runs if r.budget == budget and r.loss is not None]
        if len(mine) < 3:
            report.notes.append(f"budget {budget:.3g}: only {len(mine)} runs, no parabola")
            continue
        fit = fit_parabola(budget, [r.tokens for r in mine], [r.loss for r in mine])
        report.parabolas.append(fit)
        if not fit.convex:
            report.notes.append(f"budget {budget:.3g}: loss is not convex in log tokens (a={fit.a:.3g}); "
                                "widen the range of shapes")
            continue
        lo, hi = min(r.tokens for r in mine), max(r.tokens for r in mine)
        if not lo <= fit.optimal_tokens <= hi:
            report.notes.append(f"budget {budget:.3g}: the minimum ({fit.optimal_tokens:.3g} tokens) lies outside "
                                f"the sampled range {lo:.3g}..{hi:.3g}; it is extrapolated, add shapes around it")
        optimal_b.append(budget)
        optimal_t.append(fit.optimal_tokens)
    if len(optimal_b) >= 2:
        report.law = fit_power_law(optimal_b, optimal_t)
        p = predict(report.law, target_budget)
        report.prediction = {"budget": p.budget, "tokens": p.tokens, "params": p.params}
    else:
        report.notes.append("fewer than 2 budgets with a convex parabola: no power-law fit")
    return report


def write_report(report: SweepReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "runs": [asdict(r) for r in report.runs],
        "parabolas": [{**asdict(p), "convex": p.convex, "optimal_tokens": p.optimal_tokens if p.convex else None}
                      for p in report.parabolas],
        "law": asdict(report.law) if report.law else None,
        "target_budget": report.target_budget,
        "prediction": report.prediction,
        "notes": report.notes,
    }
    path = out_dir / "sweep.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    plot_sweep(report, out_dir)
    return path


def plot_sweep(report: SweepReport, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for fit in report.parabolas:
        mine = [r for r in report.runs if r.budget == fit.budget and r.loss is not None]
        xs = np.log10([r.tokens for r in mine])
        line = ax.scatter(10**xs, [r.loss for r in mine], label=f"C={fit.budget:.1e}")
        grid = np.linspace(xs.min(), xs.max(), 50)
        ax.plot(10**grid, fit.a * grid**2 + fit.b * grid + fit.c, color=line.get_facecolor()[0])
    ax.set_xscale("log")
    ax.set(xlabel="training tokens", ylabel="validation loss", title="IsoFLOP curves")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "isoflop.png", dpi=100)
    written.append(out_dir / "isoflop.png")
    plt.close(fig)
    if report.law is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        convex = [p for p in report.parabolas if p.convex]
        ax.scatter([p.budget for p in convex], [p.optimal_tokens for p in convex], label="parabola minima")
        span = np.logspace(math.log10(min(p.budget for p in convex)), math.log10(report.target_budget or
                           max(p.budget for p in convex)), 50)
        ax.plot(span, report.law.tokens(span), label=f"N*=A C^a, a={report.law.alpha:.3f}, A={report.law.A:.3g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set(xlabel="compute (FLOPs)", ylabel="compute-optimal tokens", title="Scaling law")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out_dir / "scaling_law.png", dpi=100)
        written.append(out_dir / "scaling_law.png")
        plt.close(fig)
    return written
