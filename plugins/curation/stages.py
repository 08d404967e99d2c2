"""The ``curate`` and ``mix`` stages (docs/recipe.md section 1)."""

from __future__ import annotations

from herd.core.pipeline import StageContext, StageResult
from herd.plugins.curation.build import build_runner
from herd.plugins.curation.mix import write_mix


def run_curate(ctx: StageContext) -> StageResult:
    cfg = ctx.config.section("curate")
    runner = build_runner(ctx.registry, ctx.config, cfg, ctx.workdir, log=ctx.log, resuming=ctx.resuming)
    funnel = runner.run()
    counts = {
        "records_in": funnel["records_in"],
        "kept": funnel["kept"]["records"],
        "dropped": funnel["dropped"]["records"],
        "tokens_in": funnel["tokens_in"],
        "tokens_kept": funnel["kept"]["tokens"],
        "unread_inputs": len(funnel["unread_inputs"]),
    }
    for step in funnel["steps"]:  # per-step counts for the manifest (full detail: funnel.json)
        counts[f"out.{step['name']}"] = step["records_out"]
        counts[f"dropped.{step['name']}"] = step["dropped"]
    return StageResult(
        counts=counts,
        metrics={f"seconds.{step['name']}": step["seconds"] for step in funnel["steps"]},
        notes=[f"funnel: {ctx.name}/funnel.json", funnel["tokens"]],
    )


def run_mix(ctx: StageContext) -> StageResult:
    cfg = ctx.config.section("mix")
    mixer = ctx.build("mixers", cfg.mixer)
    report = write_mix(mixer, ctx.inputs["curate"] / "kept", ctx.workdir, cfg.shard_size, cfg.output_format)
    return StageResult(
        counts={
            "documents_in": report["documents_in"],
            "documents_out": report["documents_out"],
            "tokens_out": report["tokens_out"],
        },
        metrics={f"achieved.{domain}": share for domain, share in report["achieved"].items()},
        notes=[f"mix report: {ctx.name}/mix.json"],
    )
