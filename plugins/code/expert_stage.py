"""The ``code_expert`` stage (docs/recipe.md section 6, "Code"): the pretrain stage's model
continues pretraining on a mix of at least ``code_fraction`` code, then trains on
repository-level documents at a longer context, through the configured trainer backend.

Layout of the stage's folder::

    tokens/{train,val,repo}/   token shards: the code mix, held-out code, repository-level documents
    train/                     the trainer's run: metrics.jsonl, checkpoints/, final/
    mix.json                   achieved code share, document counts, repositories
    final_model/               the expert, a Hugging Face Llama checkpoint with its tokenizer
                               (what the ``code_expert`` generator loads)
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from herd.core.errors import ConfigError, StageError
from herd.core.pipeline import StageContext, StageResult
from herd.core.protocols import ParallelSizes, TrainJob, TrainStage
from herd.core.services import FINAL_MODEL
from herd.plugins.code.settings import CodeExpertConfig


def pretrained_model(pretrain_dir: Path) -> Path:
    """The pretrain stage's ``final_model/`` (HF format with ``tokenizer.json``)."""
    model_dir = pretrain_dir / FINAL_MODEL
    if not (model_dir / "config.json").is_file() or not (model_dir / "tokenizer.json").is_file():
        raise StageError(f"{pretrain_dir}: no final_model/ with config.json and tokenizer.json; the code expert "
                         "continues pretraining from the pretrain stage's final model")
    return model_dir


def check_config(cfg: CodeExpertConfig) -> None:
    if not 0 < cfg.code_fraction < 1:
        raise ConfigError(f"[code_expert] code_fraction must be between 0 and 1 (exclusive), got {cfg.code_fraction}")
    if cfg.tokens < 1 or cfg.seq_len < 2 or cfg.batch_tokens < cfg.seq_len:
        raise ConfigError("[code_expert] tokens must be positive and batch_tokens at least seq_len")
    if cfg.long_context_len and cfg.long_context_len <= cfg.seq_len:
        raise ConfigError(f"[code_expert] long_context_len ({cfg.long_context_len}) must be longer than seq_len "
                          f"({cfg.seq_len}), or 0 to skip the repository-level stage")


def train_stages(cfg: CodeExpertConfig, tokens_dir: Path) -> list[TrainStage]:
    stages = [TrainStage("code_continued", "continued", cfg.tokens, cfg.seq_len, cfg.lr_peak, cfg.lr_final,
                         data=tokens_dir / "train", batch_tokens=cfg.batch_tokens, warmup_steps=cfg.warmup_steps)]
    if cfg.long_context_len:
        stages.append(TrainStage(
            f"code_repo_{cfg.long_context_len}", "long_context", cfg.long_context_tokens, cfg.long_context_len,
            cfg.lr_final, cfg.lr_final, data=tokens_dir / "repo",
            batch_tokens=max(cfg.long_context_batch_tokens, cfg.long_context_len),
            extra={"max_tokens": max(cfg.long_context_max_tokens, cfg.long_context_tokens),
                   "recover_tolerance": cfg.recover_tolerance, "niah_threshold": cfg.niah_threshold,
                   "niah_trials": cfg.niah_trials, "eval_every": cfg.eval_every},
        ))
    return stages


def run_code_expert(ctx: StageContext) -> StageResult:
    from herd.plugins.code.expert_data import build_expert_mix
    from herd.lib.llama.hf_io import export_hf
    from herd.lib.llama.tokenizer import Tokenizer

    cfg: CodeExpertConfig = ctx.config.section("code_expert")
    check_config(cfg)
    base = pretrained_model(ctx.inputs["pretrain"])
    tokenizer = Tokenizer.load(base)
    work = ctx.workdir
    clock = time.perf_counter()
    mix = build_expert_mix(ctx.inputs["mix"], tokenizer, cfg, ctx.config.run.seed)
    tokens_dir = work / "tokens"
    shard_counts = {}
    for name, texts in (("train", mix.train), ("val", mix.val), ("repo", mix.repo_docs)):
        if name == "repo" and not cfg.long_context_len:
            continue
        shard_counts[f"{name}_tokens"] = _shard(texts, tokenizer, tokens_dir / name)
    report = {"code_fraction_target": cfg.code_fraction, "code_fraction": mix.code_fraction,
              "code_tokens": mix.code_tokens, "other_tokens": mix.other_tokens, **mix.counts,
              "repository_files": mix.repos, **shard_counts}
    (work / "mix.json").write_text(json.dumps(report, indent=2) + "\n")
    ctx.log.info("code expert mix: %.1f%% code (%d code / %d other tokens), %d repository-level documents",
                 100 * mix.code_fraction, mix.code_tokens, mix.other_tokens, len(mix.repo_docs))

    data_seconds = time.perf_counter() - clock
    job = TrainJob(model={}, stages=train_stages(cfg, tokens_dir), parallel=ParallelSizes(), output_dir=work / "train",
                   data_dir=tokens_dir / "train", seed=ctx.config.run.seed, eval_dir=tokens_dir / "val",
                   init_from=base, tokenizer=base,
                   resume=ctx.resuming and (work / "train" / "checkpoints").is_dir(),
                   loggers=list(ctx.config.run.loggers))
    clock = time.perf_counter()
    result = ctx.build("trainers", cfg.trainer).train(job)
    train_seconds = time.perf_counter() - clock
    final = work / FINAL_MODEL
    if final.exists():
        shutil.rmtree(final)
    export_hf(Path(result.checkpoint), final)
    if not (final / "tokenizer.json").is_file():
        tokenizer.save(final)
    metrics = {"code_fraction": mix.code_fraction, "seconds.data": data_seconds, "seconds.train": train_seconds,
               **{k: v for k, v in result.metrics.items() if k not in ("steps", "tokens")}}
    counts = {**mix.counts, **shard_counts, "steps": int(result.metrics.get("steps", 0)),
              "trained_tokens": int(result.metrics.get("tokens", 0))}
    notes = [f"code share of the continued-pretraining mix: {100 * mix.code_fraction:.1f}% "
             f"(target at least {100 * cfg.code_fraction:.0f}%)"]
    notes += _long_context_notes(work / "train" / "metrics.jsonl")
    return StageResult(counts=counts, metrics=metrics, notes=notes)


def _shard(texts: list[str], tokenizer, out: Path) -> int:
    from herd.lib.llama.packing import write_token_shards

    meta_file = out / "tokens.json"
    if not meta_file.is_file():  # a resumed attempt keeps finished shards
        tmp = out.with_name(f".{out.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        write_token_shards(texts, tokenizer, tmp)
        tmp.replace(out)
    return int(json.loads(meta_file.read_text())["tokens"])


def _long_context_notes(metrics: Path) -> list[str]:
    last = None
    for line in metrics.read_text().splitlines() if metrics.is_file() else []:
        record = json.loads(line)
        if record.get("event") == "long_context_check":
            last = record
    if last is None:
        return []
    return [f"{last['stage']}: {last['status']} after {last['tokens']} tokens at {last['seq_len']} "
            f"(short-context code loss {last['short_eval_loss']:.3f} vs {last['short_baseline']:.3f}; "
            f"NIAH {last['niah_accuracy']:.2f})"]
