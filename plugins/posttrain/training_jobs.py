"""The round's training runs as trainer jobs (``Trainer.post_train``, docs/recipe.md section 5):
each reward-model, SFT and DPO variant is one ``PostTrainJob`` on the backend that
``[posttrain] trainer`` names, in this process or under torchrun when ``tp x dp > 1``.
The steps average the variants' weights afterwards."""

from __future__ import annotations

from pathlib import Path

from herd.core.protocols import ParallelSizes, PostTrainJob, PostTrainResult, PostTrainSettings
from herd.core.records import PreferenceRow, SFTRow
from herd.lib.posttraining.launch import run_post_train_job
from herd.lib.posttraining.rows import write_rows
from herd.plugins.posttrain.round_state import RunInputs


def run_job(run: RunInputs, kind: str, model_dir: Path, rows: list[SFTRow] | list[PreferenceRow],
            output_dir: Path, settings: PostTrainSettings, reference_dir: Path | None = None) -> PostTrainResult:
    """Write ``rows`` next to ``output_dir`` and train one ``kind`` job from ``model_dir``."""
    cfg = run.cfg
    data = write_rows(output_dir.parent / f"{output_dir.name}.rows.jsonl", rows)
    job = PostTrainJob(kind=kind, model_dir=Path(model_dir), data=data, output_dir=output_dir, settings=settings,
                       parallel=ParallelSizes(tp=cfg.tp, dp=cfg.dp), dtype=cfg.dtype, device=cfg.device,
                       reference_dir=reference_dir, loggers=list(run.ctx.config.run.loggers))
    trainer_config = run.ctx.config.component("trainers", cfg.trainer)
    run.ctx.log.info("%s job %s: %d rows on trainer '%s' (%s, tp=%d dp=%d)", kind, output_dir.name, len(rows),
                     cfg.trainer, cfg.dtype, cfg.tp, cfg.dp)
    result = run_post_train_job(cfg.trainer, trainer_config, job, registry=run.ctx.registry)
    if result.losses:
        run.ctx.log.info("%s job %s: %d steps, loss %.4f -> %.4f", kind, output_dir.name, len(result.losses),
                         result.losses[0], result.losses[-1])
    return result
