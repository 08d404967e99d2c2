"""The ``torch`` training backend: runs a backend-neutral ``TrainJob`` (RECIPE.md section 4).

Stages run in order; each reads its own tokenised data (``stage.data`` or the job's
``data_dir``):

- ``initial`` / ``continued``: AdamW with warm-up and cosine decay, batch/sequence ramp.
- ``long_context``: trains at least ``stage.tokens``, then every ``eval_every`` steps checks
  that short-context validation loss has recovered to within ``recover_tolerance`` of the
  loss before the context grew, and that needle-in-a-haystack passes at ``seq_len``. It ends
  when both hold, or at ``max_tokens`` with status ``not_recovered`` (recorded, not looped on).
- ``anneal``: LR linearly to ``lr_final``; the model is snapshotted every ``average_every``
  steps and the final model is the average of those snapshots (Polyak averaging, 4.3).

Everything the loop needs to continue is in its checkpoints (model, optimizer, counters,
data positions, RNG states, anneal snapshots on disk), so a run killed at any point
resumes on the same trajectory: bit-identical on CPU.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from herd.core.errors import ConfigError, InputError
from herd.core.protocols import ParallelSizes, TrainJob, TrainResult, TrainStage
from herd.plugins.llama.hf_io import load_model, model_from_state, save_model
from herd.plugins.llama.model import Llama, config_for
from herd.plugins.llama.packing import DataPosition, PackedBatches, TokenStream
from herd.plugins.torch_trainer import checkpoint
from herd.plugins.torch_trainer.config import TorchTrainerConfig
from herd.plugins.torch_trainer.niah import niah_accuracy
from herd.plugins.torch_trainer.parallelize import clip_grad_norm, init_distributed, parallelize_llama
from herd.plugins.torch_trainer.schedule import batch_at, lr_at

log = logging.getLogger("herd.torch_trainer")

# Below this many parameters a CPU run uses one thread unless [trainers.torch] threads says.
SMALL_CPU_MODEL = 5_000_000

# Dense BF16 peak FLOP/s per device, for MFU.
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12}


@dataclass
class Progress:
    """The counters a checkpoint restores (the LR schedule is a function of them)."""

    stage_index: int = 0
    stage_step: int = 0
    stage_tokens: int = 0
    global_step: int = 0
    total_tokens: int = 0
    positions: dict[str, dict[str, int]] = field(default_factory=dict)
    short_baseline: float | None = None
    stage_status: dict[str, dict[str, Any]] = field(default_factory=dict)
    anneal_snapshots: list[str] = field(default_factory=list)


class TorchTrainer:
    def __init__(self, cfg: TorchTrainerConfig | None = None):
        self.cfg = cfg or TorchTrainerConfig()

    # --- set-up -----------------------------------------------------------------------
    def train(self, job: TrainJob) -> TrainResult:
        device = self.cfg.device if self.cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        if device == "cuda" and "LOCAL_RANK" in os.environ:
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        mesh = init_distributed(job.parallel, device)
        run = _Run(self.cfg, job, device, mesh)
        return run.execute()


class _Run:
    def __init__(self, cfg: TorchTrainerConfig, job: TrainJob, device: str, mesh):
        self.cfg, self.job, self.device, self.mesh = cfg, job, device, mesh
        self.out = Path(job.output_dir)
        self.rank = dist.get_rank() if mesh is not None else 0
        self.dp_rank = mesh["dp"].get_local_rank() if mesh is not None else 0
        self.dp = job.parallel.dp
        self.ckpt_dir = self.out / "checkpoints"
        self.metrics_path = self.out / "metrics.jsonl"
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
        _seed_everything(job.seed)
        if cfg.deterministic and device == "cuda":
            # CPU kernels are deterministic already (and the switch imports the compiler stack).
            torch.use_deterministic_algorithms(True, warn_only=True)
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        self.model = self._build_model()
        threads = cfg.threads
        if threads == 0 and device == "cpu" and self.model.cfg.num_params() < SMALL_CPU_MODEL:
            # Per-op work of a tiny model is too small to split; extra OpenMP threads only add
            # barriers, which cost 10x on a loaded machine (measured: 76 ms vs 816 ms a step).
            threads = 1
        if threads > 0:
            torch.set_num_threads(threads)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = self._build_optimizer()
        self.progress = Progress()
        self.streams: dict[str, TokenStream] = {}
        self.autocast = device == "cuda" and cfg.bf16 and torch.cuda.is_bf16_supported()
        self.peak = _peak_flops(device) if cfg.peak_tflops <= 0 else cfg.peak_tflops * 1e12
        self.tb = _tensorboard(self.out / "tensorboard") if cfg.tensorboard and self.rank == 0 else None

    def _build_model(self) -> Llama:
        if self.job.init_from is not None:
            model = load_model(Path(self.job.init_from))
        else:
            spec = dict(self.job.model)
            size = spec.pop("size", "tiny")
            try:
                model = Llama(config_for(size, **spec))
            except (KeyError, TypeError) as err:
                raise ConfigError(f"[pretrain] model: {err}") from None
        model.to(self.device)
        return parallelize_llama(model, self.mesh, self.job.parallel)

    def _build_optimizer(self) -> torch.optim.Optimizer:
        decay = [p for p in self.params if p.dim() >= 2]
        no_decay = [p for p in self.params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        # One process: the fused AdamW kernel (one pass over each parameter); sharded
        # DTensor parameters take the per-parameter implementation.
        single = self.mesh is None
        return torch.optim.AdamW(groups, lr=0.0, betas=(self.cfg.beta1, self.cfg.beta2), eps=self.cfg.eps,
                                 fused=single, foreach=False)

    # --- main loop --------------------------------------------------------------------
    def execute(self) -> TrainResult:
        if self.job.resume:
            self._restore()
        elif self.rank == 0 and self.metrics_path.exists():
            self.metrics_path.unlink()
        stages = self.job.stages
        while self.progress.stage_index < len(stages):
            stage = stages[self.progress.stage_index]
            self._run_stage(stage)
            p = self.progress
            p.stage_index, p.stage_step, p.stage_tokens = p.stage_index + 1, 0, 0
            self._save_checkpoint()
        final = self._finish()
        if self.tb is not None:
            self.tb.close()  # flushes the event file
        metrics = {"tokens": float(self.progress.total_tokens), "steps": float(self.progress.global_step)}
        last = self._last_metrics()
        if last:
            metrics.update({"final_loss": last["loss"]})
        for name, status in self.progress.stage_status.items():
            for key, value in status.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    metrics[f"{name}.{key}"] = float(value)
        return TrainResult(checkpoint=final, metrics=metrics)

    def _run_stage(self, stage: TrainStage) -> None:
        loader = PackedBatches(self._stream(stage.data or self.job.data_dir),
                               DataPosition(**self.progress.positions.get(stage.name, {})))
        extra = stage.extra
        max_tokens = int(extra.get("max_tokens", stage.tokens))
        eval_every = int(extra.get("eval_every", 10))
        if stage.kind == "long_context" and self.progress.short_baseline is None:
            self.progress.short_baseline = self._short_eval()
        while True:
            p = self.progress
            if stage.kind != "long_context" and p.stage_tokens >= stage.tokens:
                break
            self._step(stage, loader)
            if stage.kind == "anneal" and (p.stage_step % self.cfg.average_every == 0 or p.stage_tokens >= stage.tokens):
                self._snapshot()
            if stage.kind == "long_context" and p.stage_tokens >= stage.tokens:
                at_cap = p.stage_tokens >= max_tokens
                if p.stage_step % eval_every == 0 or at_cap:
                    if self._long_context_check(stage, at_cap):
                        break
            if p.global_step % self.cfg.checkpoint_every == 0:
                self._save_checkpoint()
        if stage.kind in ("initial", "continued"):
            self.progress.stage_status[stage.name] = {"status": "done", "short_eval_loss": self._short_eval()}

    def _long_context_check(self, stage: TrainStage, at_cap: bool) -> bool:
        short = self._short_eval()
        tol = float(stage.extra.get("recover_tolerance", 0.05))
        recovered = short <= self.progress.short_baseline * (1 + tol)
        niah = niah_accuracy(self.model, self._tokenizer(), stage.seq_len, int(stage.extra.get("niah_trials", 8)),
                             self.job.seed + self.progress.stage_step, self.device)
        passed = niah >= float(stage.extra.get("niah_threshold", 1.0))
        status = "recovered" if recovered and passed else ("not_recovered" if at_cap else "running")
        self.progress.stage_status[stage.name] = {
            "status": status, "short_eval_loss": short, "short_baseline": self.progress.short_baseline,
            "short_recovered": recovered, "niah_accuracy": niah, "niah_passed": passed,
            "tokens": self.progress.stage_tokens, "seq_len": stage.seq_len,
        }
        self._write_metrics({"event": "long_context_check", "stage": stage.name, "step": self.progress.global_step,
                             **self.progress.stage_status[stage.name]})
        if status != "running":
            log.info("stage %s: %s (short-context loss %.4f vs %.4f, NIAH %.2f)", stage.name, status, short,
                     self.progress.short_baseline, niah)
        return status != "running"

    def _step(self, stage: TrainStage, loader: PackedBatches) -> None:
        p = self.progress
        t0 = time.perf_counter()
        batch_tokens, seq = batch_at(stage, p.stage_tokens)
        rows = max(self.dp, batch_tokens // seq // self.dp * self.dp)
        batch = loader.next(rows, seq)
        n_labels = int((batch.labels != -100).sum())
        mine = slice(self.dp_rank * rows // self.dp, (self.dp_rank + 1) * rows // self.dp)
        tokens, labels, docs = (t[mine].to(self.device) for t in (batch.tokens, batch.labels, batch.doc_ids))
        micro = self.cfg.micro_batch_rows or tokens.shape[0]
        loss_sum = torch.zeros((), device=self.device)
        for i in range(0, tokens.shape[0], micro):
            with torch.autocast("cuda", dtype=torch.bfloat16) if self.autocast else nullcontext():
                # Summed cross-entropy with the LM head fused in (no full logits tensor).
                ce = self.model(tokens[i : i + micro], doc_ids=docs[i : i + micro], labels=labels[i : i + micro])
            # FSDP averages gradients over dp ranks; scaling by dp makes it the global mean.
            (ce * self.dp / max(n_labels, 1)).backward()
            loss_sum += ce.detach()
        grad_norm = clip_grad_norm(self.params, self.cfg.grad_clip)
        lr = lr_at(stage, p.stage_step, p.stage_tokens)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.mesh is not None and self.dp > 1:
            dist.all_reduce(loss_sum, group=self.mesh["dp"].get_group())
        step_tokens = rows * seq
        p.stage_step += 1
        p.global_step += 1
        p.stage_tokens += step_tokens
        p.total_tokens += step_tokens
        p.positions[stage.name] = asdict(loader.position)
        seconds = time.perf_counter() - t0
        tps = step_tokens / seconds
        cfg = self.model.cfg
        mfu = tps * cfg.flops_per_token(seq) / self.peak if self.peak else 0.0
        loss = float(loss_sum) / max(n_labels, 1)
        if not math.isfinite(loss):
            raise RuntimeError(f"stage {stage.name} step {p.global_step}: loss is {loss}; lower lr_peak or check data")
        self._write_metrics({"step": p.global_step, "stage": stage.name, "loss": loss, "lr": lr,
                             "grad_norm": grad_norm, "tokens": p.total_tokens, "seq_len": seq,
                             "batch_tokens": step_tokens, "tokens_per_s": tps, "mfu": mfu})

    # --- evaluation -------------------------------------------------------------------
    @torch.no_grad()
    def _short_eval(self) -> float:
        """Validation loss at the first stage's sequence length (short context)."""
        eval_dir = self.job.eval_dir or self.job.data_dir
        stream = self._stream(eval_dir)
        seq = self.job.stages[0].seq_len
        rows = max(1, min(self.cfg.eval_rows, (len(stream) - 1) // seq))
        batch = PackedBatches(stream).next(rows, seq)
        self.model.eval()
        logits = self.model(batch.tokens.to(self.device), doc_ids=batch.doc_ids.to(self.device))
        loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), batch.labels.to(self.device).flatten(),
                                                 ignore_index=-100)
        self.model.train()
        return float(loss)

    def _tokenizer(self):
        from herd.plugins.llama.tokenizer import Tokenizer

        if self.job.tokenizer is None:
            raise ConfigError("a long_context stage needs the job's tokenizer (for the needle-in-a-haystack test)")
        if not hasattr(self, "_tok"):
            self._tok = Tokenizer.load(self.job.tokenizer)
        return self._tok

    def _stream(self, path: Path) -> TokenStream:
        key = str(path)
        if key not in self.streams:
            self.streams[key] = TokenStream(Path(path))
            vocab = self.streams[key].meta["vocab_size"]
            if vocab > self.model.cfg.vocab_size:
                raise InputError(f"{path}: tokenised with a vocabulary of {vocab}, larger than the model's "
                                 f"{self.model.cfg.vocab_size}")
        return self.streams[key]

    # --- checkpoints, snapshots, metrics ----------------------------------------------
    def _full_state(self) -> tuple[dict, dict]:
        from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                             get_optimizer_state_dict)

        opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
        return (get_model_state_dict(self.model, options=opts),
                get_optimizer_state_dict(self.model, self.optimizer, options=opts))

    def _save_checkpoint(self) -> None:
        model_state, optim_state = self._full_state()
        if self.rank == 0:
            state = {"model": model_state, "optimizer": optim_state, "progress": asdict(self.progress),
                     "rng": checkpoint.rng_state(), "model_config": self.model.cfg.to_dict()}
            checkpoint.save(self.ckpt_dir, self.progress.global_step, state, keep=self.cfg.keep_checkpoints)
        self._barrier()

    def _restore(self) -> None:
        from torch.distributed.checkpoint.state_dict import (StateDictOptions, set_model_state_dict,
                                                             set_optimizer_state_dict)

        path = checkpoint.latest(self.ckpt_dir)
        if path is None:
            if self.rank == 0 and self.metrics_path.exists():
                self.metrics_path.unlink()
            return
        state = checkpoint.load(path)
        opts = StateDictOptions(full_state_dict=True)
        set_model_state_dict(self.model, state["model"], options=opts)
        set_optimizer_state_dict(self.model, self.optimizer, state["optimizer"], options=opts)
        self.progress = Progress(**state["progress"])
        checkpoint.set_rng_state(state["rng"])
        if self.rank == 0:
            self._truncate_metrics(self.progress.global_step)
        log.info("resumed from %s (step %d)", path, self.progress.global_step)

    def _truncate_metrics(self, step: int) -> None:
        """Drop metric lines written after the checkpoint (they will be written again)."""
        if not self.metrics_path.exists():
            return
        kept = [line for line in self.metrics_path.read_text().splitlines()
                if line.strip() and _line_step(line) <= step]
        tmp = self.metrics_path.with_suffix(".tmp")
        tmp.write_text("".join(k + "\n" for k in kept))
        os.replace(tmp, self.metrics_path)

    def _snapshot(self) -> None:
        """Save the current weights for the annealing average."""
        from safetensors.torch import save_file

        model_state, _ = self._full_state()
        name = f"anneal_{self.progress.global_step:08d}.safetensors"
        if self.rank == 0:
            directory = self.out / "anneal_snapshots"
            directory.mkdir(parents=True, exist_ok=True)
            tmp = directory / f".{name}.tmp"
            save_file({k: v.detach().cpu().contiguous().clone() for k, v in model_state.items()}, str(tmp))
            os.replace(tmp, directory / name)
        if name not in self.progress.anneal_snapshots:
            self.progress.anneal_snapshots.append(name)
        self._barrier()

    def _finish(self) -> Path:
        """The final model: the average of the annealing snapshots when there are any."""
        from safetensors.torch import load_file

        model_state, _ = self._full_state()
        snaps = self.progress.anneal_snapshots
        final = self.out / "final"
        if self.rank == 0:
            if snaps:
                total = None
                for name in snaps:
                    state = load_file(str(self.out / "anneal_snapshots" / name))
                    total = state if total is None else {k: total[k] + state[k] for k in total}
                model_state = {k: v / len(snaps) for k, v in total.items()}
            plain = model_from_state(self.model.cfg, model_state)
            save_model(plain, final, tokenizer=self._tokenizer() if self.job.tokenizer else None)
            self.progress.stage_status["final"] = {"averaged_snapshots": len(snaps)}
        self._barrier()
        return final

    def _write_metrics(self, record: dict[str, Any]) -> None:
        if self.rank != 0:
            return
        with open(self.metrics_path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.tb is not None and "loss" in record:
            for key in ("loss", "lr", "grad_norm", "tokens_per_s", "mfu"):
                self.tb.add_scalar(f"train/{key}", record[key], record["step"])

    def _last_metrics(self) -> dict[str, Any] | None:
        if self.rank != 0 or not self.metrics_path.exists():
            return None
        lines = [json.loads(x) for x in self.metrics_path.read_text().splitlines() if x.strip()]
        steps = [x for x in lines if "loss" in x]
        return steps[-1] if steps else None

    def _barrier(self) -> None:
        if self.mesh is not None:
            dist.barrier()


def _line_step(line: str) -> int:
    try:
        return int(json.loads(line).get("step", 0))
    except (json.JSONDecodeError, TypeError, ValueError):
        return 1 << 62  # a torn last line: drop it


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def _peak_flops(device: str) -> float:
    """The device's dense BF16 peak (GPU table), or on CPU a measured float32 matmul rate
    (there is no published peak for an arbitrary CPU; MFU on CPU is relative to it)."""
    if device == "cuda":
        name = torch.cuda.get_device_name()
        return next((v for k, v in PEAK_FLOPS.items() if k in name), 0.0)
    a = torch.randn(512, 512)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t0)
    return 2 * 512**3 / best


def _tensorboard(path: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        log.info("tensorboard is not installed; metrics go to metrics.jsonl only")
        return None
    return SummaryWriter(str(path))


def job_to_dict(job: TrainJob) -> dict[str, Any]:
    data = asdict(job)
    return json.loads(json.dumps(data, default=str))


def job_from_dict(data: dict[str, Any]) -> TrainJob:
    def path(v):
        return None if v is None else Path(v)

    stages = [TrainStage(**{**s, "data": path(s.get("data")),
                            "batch_ramp": [tuple(r) for r in s.get("batch_ramp", [])]}) for s in data["stages"]]
    return TrainJob(model=data["model"], stages=stages, parallel=ParallelSizes(**data["parallel"]),
                    output_dir=Path(data["output_dir"]), data_dir=Path(data["data_dir"]), seed=data.get("seed", 0),
                    resume=data.get("resume", False), eval_dir=path(data.get("eval_dir")),
                    init_from=path(data.get("init_from")), tokenizer=path(data.get("tokenizer")))
