"""Runs the evaluators and writes ``metrics.json`` (``{evaluator: {metric: value}}``)."""

from __future__ import annotations

from pathlib import Path

from herd.core import atomic
from herd.core.errors import StageError
from herd.core.pipeline import StageContext, StageResult
from herd.core.services import FINAL_MODEL, Services, generator_for_model


def final_model_dir(ctx: StageContext) -> Path:
    for stage in ("posttrain", "pretrain"):
        if stage in ctx.inputs and (ctx.inputs[stage] / FINAL_MODEL).is_dir():
            return ctx.inputs[stage] / FINAL_MODEL
    raise StageError(
        f"no final model found: expected {FINAL_MODEL}/ in the posttrain or pretrain stage "
        f"output ({', '.join(str(p) for p in ctx.inputs.values())})"
    )


def run_evaluate(ctx: StageContext) -> StageResult:
    cfg = ctx.config.section("evaluate")
    names = cfg.evaluators or ctx.registry.names("evaluators")
    model_dir = final_model_dir(ctx)
    results: dict[str, dict[str, float]] = {}
    generator = generator_for_model(ctx, cfg.generator, model_dir) if names else None
    # generator_dir: evaluators asking for a generator of the final model get this one.
    services = Services(ctx, generator=generator, generator_dir=model_dir, backend=cfg.generator)
    for name in names:
        workdir = ctx.workdir / name
        workdir.mkdir(exist_ok=True)
        ctx.log.info("evaluating %s with %s", model_dir, name)
        evaluator = ctx.build("evaluators", name, services)
        results[name] = {k: float(v) for k, v in evaluator.evaluate(model_dir, workdir).items()}
    atomic.write_json(ctx.workdir / "metrics.json", {"model": str(model_dir), "results": results})
    flat = {f"{name}.{metric}": value for name, metrics in results.items() for metric, value in metrics.items()}
    notes = [] if names else ["no evaluator is registered by the active plugins"]
    return StageResult(counts={"evaluators": len(names)}, metrics=flat, notes=notes)
