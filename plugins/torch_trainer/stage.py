"""The ``pretrain`` stage: mixed corpus -> tokenizer -> token shards -> three-stage
pretraining (docs/recipe.md section 4) -> final model, in herd and Hugging Face formats.

Layout of the stage's folder::

    tokenizer/tokenizer.json   trained on the mix (or copied from [pretrain] tokenizer_path)
    tokens/{train,val,long,anneal}/   memory-mapped token shards
    train/                     the trainer's run: metrics.jsonl, checkpoints/, final/
    job.json                   the backend-neutral TrainJob (also what torchrun workers read)
    final_model/               the final model as a Hugging Face Llama checkpoint, tokenizer included
                               (what ``posttrain`` and ``evaluate`` read)

The training data is the ``mix`` stage's output (``*.jsonl.gz``/``*.parquet`` records with
``text``); ``data.build_token_data`` writes the tokenizer and the shards (the long-context
data adds the documents of any stage that provides ``long_documents``, e.g. the long_context
plugin's repository-level code, and holds no NIAH-format document; the annealing data
up-samples high-quality documents).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from herd.core.errors import ConfigError, StageError
from herd.core.pipeline import StageContext, StageResult
from herd.core.protocols import ParallelSizes, TrainJob, TrainStage
from herd.plugins.torch_trainer.config import PretrainConfig
from herd.plugins.torch_trainer.data import build_token_data


def build_stages(cfg: PretrainConfig, tokens_dir: Path) -> list[TrainStage]:
    """The stage schedule of ``[pretrain]`` in backend-neutral terms."""
    if not (len(cfg.ramp_after_tokens) == len(cfg.ramp_batch_tokens) == len(cfg.ramp_seq_len)):
        raise ConfigError("[pretrain] ramp_after_tokens, ramp_batch_tokens and ramp_seq_len must have equal lengths")
    ramp = list(zip(cfg.ramp_after_tokens, cfg.ramp_batch_tokens, cfg.ramp_seq_len))
    stages = [TrainStage("initial", "initial", cfg.initial_tokens, cfg.seq_len, cfg.lr_peak, cfg.lr_floor,
                         batch_tokens=cfg.batch_tokens, batch_ramp=ramp, warmup_steps=cfg.warmup_steps)]
    last_seq = max([cfg.seq_len] + cfg.ramp_seq_len)
    for length in cfg.long_context_lengths:
        if length <= last_seq:
            raise ConfigError(f"[pretrain] long_context_lengths must grow beyond {last_seq}; got {length}")
        last_seq = length
        stages.append(TrainStage(
            f"long_{length}", "long_context", cfg.long_context_tokens, length, cfg.lr_floor, cfg.lr_floor,
            data=tokens_dir / "long", batch_tokens=max(cfg.long_context_batch_tokens, length),
            extra={"max_tokens": cfg.long_context_max_tokens, "recover_tolerance": cfg.recover_tolerance,
                   "niah_threshold": cfg.niah_threshold, "niah_trials": cfg.niah_trials,
                   "eval_every": cfg.eval_every},
        ))
    if cfg.anneal_tokens > 0:
        stages.append(TrainStage("anneal", "anneal", cfg.anneal_tokens, last_seq, cfg.lr_floor, 0.0,
                                 data=tokens_dir / "anneal",
                                 batch_tokens=max(cfg.long_context_batch_tokens, last_seq)))
    return stages


def run_pretrain(ctx: StageContext) -> StageResult:
    from herd.lib.llama.packing import corpus_files
    from herd.lib.llama.tokenizer import Tokenizer

    cfg: PretrainConfig = ctx.config.section("pretrain")
    work = ctx.workdir
    long_files = [f for name, folder in sorted(ctx.inputs.items()) if name != "mix" and _provides_long(ctx, name)
                  for f in corpus_files(folder)]
    data = build_token_data(corpus_files(ctx.inputs["mix"]), cfg, ctx.config.run.seed, work, long_files=long_files)
    counts, notes = data.counts, data.notes
    tok_dir = work / "tokenizer"
    tok = Tokenizer.load(tok_dir)
    tokens = work / "tokens"

    parallel = ParallelSizes(tp=cfg.tp, cp=cfg.cp, pp=cfg.pp, dp=cfg.dp)
    model = {"size": cfg.model_size, **cfg.model_overrides, "vocab_size": tok.vocab_size}
    job = TrainJob(model=model, stages=build_stages(cfg, tokens), parallel=parallel, output_dir=work / "train",
                   data_dir=tokens / "train", seed=ctx.config.run.seed, eval_dir=tokens / "val", tokenizer=tok_dir,
                   resume=ctx.resuming and (work / "train" / "checkpoints").is_dir(),
                   loggers=list(ctx.config.run.loggers))
    trainer_cfg = ctx.config.component("trainers", cfg.trainer)
    if parallel.world_size > 1 and "WORLD_SIZE" not in os.environ and cfg.trainer == "torch":
        result = _torchrun(job, trainer_cfg, work, ctx)
    else:
        result = ctx.build("trainers", cfg.trainer).train(job)
    from herd.lib.llama.hf_io import export_hf

    final = export_hf(Path(result.checkpoint), work / "final_model")
    if not (final / "tokenizer.json").is_file():
        tok.save(final)
    for stage in job.stages:
        status = _stage_status(work / "train" / "metrics.jsonl", stage.name)
        if status:
            notes.append(f"{stage.name}: {status}")
    counts.update({"steps": int(result.metrics.get("steps", 0)), "trained_tokens": int(result.metrics.get("tokens", 0))})
    return StageResult(counts=counts, metrics={k: v for k, v in result.metrics.items() if k not in ("steps", "tokens")},
                       notes=notes)


def _provides_long(ctx: StageContext, stage: str) -> bool:
    from herd.plugins.torch_trainer import LONG_DOCUMENTS

    return LONG_DOCUMENTS in ctx.registry.get("stages", stage).options.get("provides", ())


def _stage_status(metrics: Path, stage: str) -> str:
    last = None
    for line in metrics.read_text().splitlines():
        record = json.loads(line)
        if record.get("event") == "long_context_check" and record.get("stage") == stage:
            last = record
    if last is None:
        return ""
    outcome = "recovered" if last["status"] == "recovered" else "not yet recovered"
    return (f"short-context loss {outcome} after {last['tokens']} tokens ({last['short_eval_loss']:.3f} vs "
            f"{last['short_baseline']:.3f} before; NIAH {last['niah_accuracy']:.2f} at {last['seq_len']} tokens)")


def _torchrun(job: TrainJob, trainer_cfg, work: Path, ctx: StageContext):
    """Run the job on ``tp * dp`` local processes with torchrun (gloo on CPU)."""
    from dataclasses import asdict

    from herd.core.protocols import TrainResult
    from herd.lib.training.job_io import job_to_dict
    from herd.lib.training.launch import run_torchrun

    spec = work / "job.json"
    spec.write_text(json.dumps({"job": job_to_dict(job), "trainer": asdict(trainer_cfg) if trainer_cfg else {}},
                               indent=2))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={job.parallel.world_size}", "-m", "herd.plugins.torch_trainer.worker", str(spec)]
    ctx.log.info("pretrain: %s", " ".join(cmd))
    code, output = run_torchrun(cmd, ctx.log)
    if code != 0:
        raise StageError(f"pretrain: torchrun exited with {code}: {output[-2000:]}")
    result = json.loads((job.output_dir / "result.json").read_text())
    return TrainResult(checkpoint=Path(result["checkpoint"]), metrics=result["metrics"])

