"""The ``nemo`` training backend: herd's ``TrainJob`` on NeMo AutoModel's distributed
components (issue 10).

The model is herd's Llama as its exact Hugging Face equivalent (``hf_model``). NeMo
AutoModel builds the device mesh (``DistributedSetup``), applies FSDP2 over dp, DTensor
tensor parallelism and activation checkpointing (``parallelize_model``) and splits the
model into pipeline stages with a 1F1B schedule (``AutoPipeline``); the loop below is
herd's own and mirrors the ``torch`` backend's: the same data streams and positions, the
same LR and batch schedules (``torch_trainer.schedule``), the same stage semantics
(initial / continued, long-context recovery + needle-in-a-haystack, annealing with Polyak
averaging), the same ``metrics.jsonl`` records and the same checkpoint files
(``torch_trainer.checkpoint``: full model and optimizer state in herd's parameter names,
progress counters, RNG states). So either backend resumes the other's checkpoints, on any
layout, and the final model is a herd checkpoint that ``export-hf`` turns into a
``transformers`` model.

Evaluation (short-context loss, needle-in-a-haystack) runs on rank 0 with herd's ``Llama``
built from the gathered weights, exactly as the torch backend evaluates.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from herd.core.errors import ConfigError, InputError, StageError
from herd.core.protocols import TrainJob, TrainResult, TrainStage
from herd.plugins.llama.hf_io import model_from_state, save_model
from herd.plugins.llama.model import LlamaConfig
from herd.plugins.llama.packing import DataPosition, PackedBatches, TokenStream
from herd.plugins.nemo import hf_model
from herd.plugins.nemo.config import NemoTrainerConfig
from herd.plugins.nemo.distributed import Layout, all_reduce_sum, build_layout, cp_shard, pick_device, validate_layout
from herd.plugins.nemo.packed import StageInputs, packed_inputs
from herd.plugins.torch_trainer import checkpoint
from herd.plugins.torch_trainer.niah import niah_accuracy
from herd.plugins.torch_trainer.schedule import batch_at, lr_at
from herd.plugins.torch_trainer.trainer import (SMALL_CPU_MODEL, Progress, _peak_flops, _seed_everything,
                                                 job_to_dict)

log = logging.getLogger("herd.nemo")


class NemoTrainer:
    """``trainers: nemo``. Called in one process with ``tp*cp*pp*dp > 1`` it starts torchrun
    over that many local processes itself (so the caller's process keeps the run's
    bookkeeping); under torchrun it is one rank of the job."""

    def __init__(self, cfg: NemoTrainerConfig | None = None):
        self.cfg = cfg or NemoTrainerConfig()

    def train(self, job: TrainJob) -> TrainResult:
        device = pick_device(self.cfg)
        _seed_everything(job.seed)  # before the weights are drawn: the torch backend's order
        start = hf_model.herd_model(job.model, job.init_from)
        validate_layout(job, start.cfg, self.cfg, device)
        if job.parallel.world_size > 1 and "WORLD_SIZE" not in os.environ:
            return run_torchrun(job, self.cfg)
        layout = build_layout(job.parallel, self.cfg, device)
        from herd.plugins.nemo.rank_entry import share_job

        share_job(job, self.cfg, layout)
        return _Run(self.cfg, job, device, layout, start).execute()


def run_torchrun(job: TrainJob, cfg: NemoTrainerConfig) -> TrainResult:
    """Run ``job`` on ``world_size`` local processes (gloo on CPU) and return rank 0's result."""
    out = Path(job.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec = out / "nemo_job.json"
    spec.write_text(json.dumps({"job": job_to_dict(job), "trainer": asdict(cfg)}, indent=2))
    (out / "result.json").unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={job.parallel.world_size}", "-m", "herd.plugins.nemo.worker", str(spec)]
    env = {**os.environ}
    if pick_device(cfg) == "cpu":
        env.setdefault("OMP_NUM_THREADS", "1")  # the ranks share the cores
    log.info("nemo: %s", " ".join(cmd))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise StageError(f"nemo trainer: torchrun exited with {done.returncode} ({_dead_rank(done.stderr)}); "
                         f"the last complete checkpoint under {out / 'checkpoints'} resumes the run. "
                         f"stderr tail:\n{done.stderr[-2000:]}")
    result = json.loads((out / "result.json").read_text())
    return TrainResult(checkpoint=Path(result["checkpoint"]), metrics=result["metrics"])


def _dead_rank(stderr: str) -> str:
    for line in stderr.splitlines():
        if "Failures:" in line or "exitcode" in line and "rank" in line:
            return line.strip()
    return "see stderr"


class _Run:
    def __init__(self, cfg: NemoTrainerConfig, job: TrainJob, device: str, layout: Layout, start):
        self.cfg, self.job, self.device, self.layout = cfg, job, device, layout
        self.p = job.parallel
        self.rank = layout.rank
        self.out = Path(job.output_dir)
        self.ckpt_dir = self.out / "checkpoints"
        self.metrics_path = self.out / "metrics.jsonl"
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
        threads = cfg.threads
        if threads == 0 and device == "cpu" and start.cfg.num_params() < SMALL_CPU_MODEL:
            threads = 1  # as the torch backend: a tiny model's ops are too small to split over threads
        if threads > 0:
            torch.set_num_threads(threads)
        self.model_cfg: LlamaConfig = start.cfg
        self.autocast = device == "cuda" and cfg.bf16 and torch.cuda.is_bf16_supported()
        self.parts, self.pipe = self._build(start)
        self.params = [p for part in self.parts for p in part.parameters() if p.requires_grad]
        self.optimizer = self._build_optimizer()
        self.progress = Progress()
        self.streams: dict[str, TokenStream] = {}
        self.peak = _peak_flops(device)
        self._ce_sum = torch.zeros((), device=device)

    # --- set-up -----------------------------------------------------------------------
    def _build(self, start):
        hf = hf_model.hf_module(self.model_cfg, start.state_dict())
        del start
        if self.layout.setup is None:
            return [_single_process(hf, self.cfg).to(self.device)], None
        from nemo_automodel.components.distributed.model_parallelizer import parallelize_model

        mesh_context = self.layout.setup.mesh_context
        if self.p.cp > 1:
            from nemo_automodel.components.distributed.context_parallel.utils import attach_context_parallel_hooks

            attach_context_parallel_hooks(hf)  # ring SDPA: causal inside the shard, no explicit mask
        if self.p.pp == 1:
            return [parallelize_model(hf.to(self.device), mesh_context)], None
        from nemo_automodel.components.distributed.pipelining.autopipeline import AutoPipeline

        def parallelize_stage(stage_module, **_axes):  # AutoPipeline passes the axis names; the mesh has them
            return parallelize_model(stage_module, mesh_context)

        rows = self._local_rows(self.job.stages[0], 0)
        pipe = AutoPipeline(world_mesh=mesh_context.device_mesh, device=torch.device(self.device),
                            pp_schedule=self.cfg.pp_schedule, pp_microbatch_size=self._micro_rows(rows),
                            pp_batch_size=rows, **mesh_context.pipeline_axis_kwargs())
        pipe.build(hf, loss_fn=self._pipeline_loss, parallelize_fn=parallelize_stage)
        self._stage_inputs = StageInputs(pipe.parts)
        self._pipe_rows = rows
        return list(pipe.parts), pipe

    def _build_optimizer(self) -> torch.optim.Optimizer:
        decay = [p for p in self.params if p.dim() >= 2]
        no_decay = [p for p in self.params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=0.0, betas=(self.cfg.beta1, self.cfg.beta2), eps=self.cfg.eps,
                                 foreach=self.layout.setup is None)

    def _local_rows(self, stage: TrainStage, tokens_done: int) -> int:
        batch_tokens, seq = batch_at(stage, tokens_done)
        rows = max(self.p.dp, batch_tokens // seq // self.p.dp * self.p.dp)
        return rows // self.p.dp

    def _micro_rows(self, local_rows: int) -> int:
        micro = self.cfg.micro_batch_rows or (max(1, local_rows // self.p.pp) if self.p.pp > 1 else local_rows)
        if local_rows % micro:
            raise ConfigError(f"[trainers.nemo] micro_batch_rows={micro} does not divide the {local_rows} sequences "
                              f"each data-parallel rank gets per step")
        if self.p.pp > 1 and local_rows // micro < self.p.pp:
            raise ConfigError(f"[trainers.nemo] {local_rows // micro} micro-batches per step cannot fill a pipeline "
                              f"of pp={self.p.pp} stages; lower micro_batch_rows or raise the batch")
        return micro

    # --- main loop --------------------------------------------------------------------
    def execute(self) -> TrainResult:
        if self.job.resume:
            self._restore()
        elif self.rank == 0 and self.metrics_path.exists():
            self.metrics_path.unlink()
        stages = self.job.stages
        while self.progress.stage_index < len(stages):
            self._run_stage(stages[self.progress.stage_index])
            p = self.progress
            p.stage_index, p.stage_step, p.stage_tokens = p.stage_index + 1, 0, 0
            self._save_checkpoint()
        final = self._finish()
        metrics = {"tokens": float(self.progress.total_tokens), "steps": float(self.progress.global_step)}
        last = self._last_metrics()
        if last:
            metrics["final_loss"] = last["loss"]
        for name, status in self.progress.stage_status.items():
            for key, value in status.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    metrics[f"{name}.{key}"] = float(value)
        return TrainResult(checkpoint=final, metrics=metrics)

    def _run_stage(self, stage: TrainStage) -> None:
        loader = PackedBatches(self._stream(stage.data or self.job.data_dir),
                               DataPosition(**self.progress.positions.get(stage.name, {})))
        max_tokens = int(stage.extra.get("max_tokens", stage.tokens))
        eval_every = int(stage.extra.get("eval_every", 10))
        if stage.kind == "long_context" and self.progress.short_baseline is None:
            self.progress.short_baseline = self._evaluate(short=True)["short"]
        while True:
            p = self.progress
            if stage.kind != "long_context" and p.stage_tokens >= stage.tokens:
                break
            self._step(stage, loader)
            if stage.kind == "anneal" and (p.stage_step % self.cfg.average_every == 0 or p.stage_tokens >= stage.tokens):
                self._snapshot()
            if stage.kind == "long_context" and p.stage_tokens >= stage.tokens:
                at_cap = p.stage_tokens >= max_tokens
                if (p.stage_step % eval_every == 0 or at_cap) and self._long_context_check(stage, at_cap):
                    break
            if p.global_step % self.cfg.checkpoint_every == 0:
                self._save_checkpoint()
        if stage.kind in ("initial", "continued"):
            self.progress.stage_status[stage.name] = {"status": "done", "short_eval_loss": self._evaluate(True)["short"]}

    def _long_context_check(self, stage: TrainStage, at_cap: bool) -> bool:
        result = self._evaluate(short=True, niah=stage)
        short, niah = result["short"], result["niah"]
        recovered = short <= self.progress.short_baseline * (1 + float(stage.extra.get("recover_tolerance", 0.05)))
        passed = niah >= float(stage.extra.get("niah_threshold", 1.0))
        status = "recovered" if recovered and passed else ("not_recovered" if at_cap else "running")
        self.progress.stage_status[stage.name] = {
            "status": status, "short_eval_loss": short, "short_baseline": self.progress.short_baseline,
            "short_recovered": recovered, "niah_accuracy": niah, "niah_passed": passed,
            "tokens": self.progress.stage_tokens, "seq_len": stage.seq_len,
        }
        self._write_metrics({"event": "long_context_check", "stage": stage.name, "step": self.progress.global_step,
                             **self.progress.stage_status[stage.name]})
        return status != "running"

    def _step(self, stage: TrainStage, loader: PackedBatches) -> None:
        p = self.progress
        t0 = time.perf_counter()
        _, seq = batch_at(stage, p.stage_tokens)
        local = self._local_rows(stage, p.stage_tokens)
        rows = local * self.p.dp
        batch = loader.next(rows, seq)
        n_labels = int((batch.labels != -100).sum())
        mine = slice(self.layout.dp_rank * local, (self.layout.dp_rank + 1) * local)
        tokens, labels, docs = (t[mine].to(self.device) for t in (batch.tokens, batch.labels, batch.doc_ids))
        # FSDP averages gradients over dp; scaling by dp makes the sum over all ranks the global mean.
        self._loss_scale = self.p.dp / max(n_labels, 1)
        self._ce_sum.zero_()
        if self.pipe is not None:
            self._pipeline_step(tokens, labels, docs, seq)
        else:
            self._plain_step(tokens, labels, docs)
        grad_norm = self._clip_grad_norm()
        lr = lr_at(stage, p.stage_step, p.stage_tokens)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum = all_reduce_sum(self._ce_sum.detach().clone(), self.layout, ("pp", "cp", "dp"))
        step_tokens = rows * seq
        p.stage_step += 1
        p.global_step += 1
        p.stage_tokens += step_tokens
        p.total_tokens += step_tokens
        p.positions[stage.name] = asdict(loader.position)
        tps = step_tokens / (time.perf_counter() - t0)
        mfu = tps * self.model_cfg.flops_per_token(seq) / self.peak if self.peak else 0.0
        loss = float(loss_sum) / max(n_labels, 1)
        if not math.isfinite(loss):
            raise RuntimeError(f"stage {stage.name} step {p.global_step}: loss is {loss}; lower lr_peak or check data")
        self._write_metrics({"step": p.global_step, "stage": stage.name, "loss": loss, "lr": lr,
                             "grad_norm": grad_norm, "tokens": p.total_tokens, "seq_len": seq,
                             "batch_tokens": step_tokens, "tokens_per_s": tps, "mfu": mfu})

    def _plain_step(self, tokens, labels, docs) -> None:
        model = self.parts[0]
        micro = self._micro_rows(tokens.shape[0])
        for i in range(0, tokens.shape[0], micro):
            part = slice(i, i + micro)
            inputs = {"input_ids": tokens[part], **packed_inputs(docs[part])}
            target = labels[part]
            context = nullcontext()
            if self.p.cp > 1:
                inputs, target, context = self._cp_inputs(tokens[part], target, inputs["position_ids"])
            with context, torch.autocast("cuda", dtype=torch.bfloat16) if self.autocast else nullcontext():
                logits = model(**inputs).logits
            self._loss(logits, target).backward()

    def _cp_inputs(self, tokens, labels, positions):
        """Context parallel (CUDA only): this rank's load-balanced share of the sequence and
        torch's ring-attention context. Attention is causal over the whole packed row here:
        ring SDPA takes no per-document mask (positions still restart per document)."""
        from torch.nn.attention import SDPBackend, sdpa_kernel

        from nemo_automodel.components.distributed.context_parallel.utils import create_context_parallel_ctx

        cp_mesh = self.layout.submesh("cp")
        inputs = {"input_ids": cp_shard(tokens, cp_mesh), "position_ids": cp_shard(positions, cp_mesh)}
        ring = create_context_parallel_ctx(cp_mesh, [], [], set())

        class _Both:
            def __enter__(self_inner):
                self_inner.kernel = sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION])
                self_inner.kernel.__enter__()
                ring.__enter__()

            def __exit__(self_inner, *exc):
                ring.__exit__(*exc)
                self_inner.kernel.__exit__(*exc)

        return inputs, cp_shard(labels, cp_mesh), _Both()

    def _pipeline_step(self, tokens, labels, docs, seq: int) -> None:
        from nemo_automodel.components.distributed.pipelining.functional import build_pipeline_schedule

        local = tokens.shape[0]
        micro = self._micro_rows(local)
        if local != self._pipe_rows:  # the batch ramp or a long-context stage changed the batch
            info = self.pipe.info
            info.schedule = build_pipeline_schedule(None, self.cfg.pp_schedule, micro, local, info.stages,
                                                    self._pipeline_loss)
            self.pipe.pp_microbatch_size, self.pipe.pp_batch_size, self._pipe_rows = micro, local, local
            self.pipe._pp_current_seq_len = None
        self.pipe.update_seq_len(seq)
        self._stage_inputs.load(docs, micro)
        last = self.pipe.info.has_last_stage
        with torch.autocast("cuda", dtype=torch.bfloat16) if self.autocast else nullcontext():
            self.pipe.step(tokens, target=labels if last else None, losses=[] if last else None)

    def _pipeline_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._loss(logits, target)

    def _loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from torch.distributed.tensor import DTensor

        if isinstance(logits, DTensor):
            logits = logits.full_tensor()
        ce = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), target.flatten(), ignore_index=-100,
                                               reduction="sum")
        self._ce_sum += ce.detach()
        return ce * self._loss_scale

    def _clip_grad_norm(self) -> float:
        """Global gradient norm over every rank's parameters (DTensor norms cover dp and tp;
        pipeline stages hold disjoint parameters, so their squares add), clipped to grad_clip."""
        from torch.distributed.tensor import DTensor

        squares = torch.zeros((), device=self.device)
        for param in self.params:
            if param.grad is None:
                continue
            norm = torch.linalg.vector_norm(param.grad.float())
            squares = squares + (norm.full_tensor() if isinstance(norm, DTensor) else norm) ** 2
        total = all_reduce_sum(squares, self.layout, ("pp",)).sqrt()
        if self.cfg.grad_clip > 0:
            coef = float(torch.clamp(self.cfg.grad_clip / (total + 1e-6), max=1.0))
            for param in self.params:
                if param.grad is not None:
                    param.grad.mul_(coef)
        return float(total)

    # --- evaluation (rank 0, herd's Llama on the gathered weights) --------------------
    def _evaluate(self, short: bool, niah: TrainStage | None = None) -> dict[str, float]:
        state = self._gather_model_state()
        result = torch.zeros(2, dtype=torch.float64)
        if self.rank == 0:
            model = model_from_state(self.model_cfg, state).to(self.device).eval()
            result[0] = self._short_eval(model)
            if niah is not None:
                result[1] = niah_accuracy(model, self._tokenizer(), niah.seq_len, int(niah.extra.get("niah_trials", 8)),
                                          self.job.seed + self.progress.stage_step, self.device)
        if self.layout.setup is not None:
            result = result.to(self.device)
            dist.broadcast(result, src=0)
        return {"short": float(result[0]), "niah": float(result[1])}

    @torch.no_grad()
    def _short_eval(self, model) -> float:
        stream = self._stream(self.job.eval_dir or self.job.data_dir)
        seq = self.job.stages[0].seq_len
        rows = max(1, min(self.cfg.eval_rows, (len(stream) - 1) // seq))
        batch = PackedBatches(stream).next(rows, seq)
        logits = model(batch.tokens.to(self.device), doc_ids=batch.doc_ids.to(self.device))
        return float(torch.nn.functional.cross_entropy(logits.float().flatten(0, 1),
                                                       batch.labels.to(self.device).flatten(), ignore_index=-100))

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
            if vocab > self.model_cfg.vocab_size:
                raise InputError(f"{path}: tokenised with a vocabulary of {vocab}, larger than the model's "
                                 f"{self.model_cfg.vocab_size}")
        return self.streams[key]

    # --- full state: gathered from the mesh, in herd's names --------------------------
    def _gather(self, local: Any) -> list[Any]:
        """Every pipeline stage's ``local`` on rank 0 (``[local]`` without pipelining)."""
        if self.pipe is None:
            return [local]
        out = [None] * dist.get_world_size() if self.rank == 0 else None
        dist.gather_object(local, out, dst=0)
        return out if self.rank == 0 else []

    def _part_is_sender(self) -> bool:
        """Under pp, one rank per stage sends its (full, gathered) stage state to rank 0."""
        mesh = self.layout.mesh
        return all(mesh[a].get_local_rank() == 0 for a in ("dp", "cp", "tp") if mesh[a].size() > 1)

    def _full_options(self):
        """Full (unsharded) state: torch's cpu_offload leaves it on global rank 0 only,
        which is right without pipelining; a pipeline stage's sender keeps its own copy."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions

        return StateDictOptions(full_state_dict=True, cpu_offload=self.pipe is None)

    def _gather_model_state(self) -> dict[str, torch.Tensor]:
        from torch.distributed.checkpoint.state_dict import get_model_state_dict

        local = {}
        for part in self.parts:
            local.update(_cpu(get_model_state_dict(part, options=self._full_options())))
        if self.pipe is not None and not self._part_is_sender():
            local = {}
        state: dict[str, torch.Tensor] = {}
        for piece in self._gather(local):
            state.update(piece or {})
        return {k: v for k, v in hf_model.to_herd_names(state).items() if not k.endswith("rotary_emb.inv_freq")}

    def _gather_optimizer_state(self) -> dict:
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

        local = _cpu(get_optimizer_state_dict(self.parts[0], self.optimizer, options=self._full_options()))
        if self.pipe is not None and not self._part_is_sender():
            local = None
        pieces = [x for x in self._gather(local) if x is not None]
        if self.rank != 0:
            return {}
        return hf_model.optimizer_state_names(hf_model.merge_optimizer_states(pieces), hf_model.to_herd_name)

    def _save_checkpoint(self) -> None:
        model_state = self._gather_model_state()
        optim_state = self._gather_optimizer_state()
        if self.rank == 0:
            state = {"model": model_state, "optimizer": optim_state, "progress": asdict(self.progress),
                     "rng": checkpoint.rng_state(), "model_config": self.model_cfg.to_dict(),
                     "backend": "nemo", "parallel": asdict(self.p)}
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
        saved = state.get("model_config")
        if saved is not None and LlamaConfig.from_dict(saved) != self.model_cfg:
            raise ConfigError(f"{path}: the checkpoint holds a different model ({saved}) than [pretrain] asks for "
                              f"({self.model_cfg.to_dict()}); point the run at a new directory or fix the config")
        opts = StateDictOptions(full_state_dict=True)
        model_state = hf_model.to_hf_names(state["model"])
        optim_state = hf_model.optimizer_state_names(state["optimizer"], hf_model.to_hf_name)
        for part in self.parts:
            names = set(part.state_dict())
            set_model_state_dict(part, {k: v for k, v in model_state.items() if k in names}, options=opts)
        names = {n for part in self.parts for n, _ in part.named_parameters()}
        set_optimizer_state_dict(self.parts[0], self.optimizer, hf_model.optimizer_state_subset(optim_state, names),
                                 options=opts)
        self.progress = Progress(**state["progress"])
        checkpoint.set_rng_state(state["rng"])
        if self.rank == 0:
            self._truncate_metrics(self.progress.global_step)
        log.info("resumed from %s (step %d, written by the %s backend)", path, self.progress.global_step,
                 state.get("backend", "torch"))

    def _truncate_metrics(self, step: int) -> None:
        from herd.plugins.torch_trainer.trainer import _line_step

        if not self.metrics_path.exists():
            return
        kept = [x for x in self.metrics_path.read_text().splitlines() if x.strip() and _line_step(x) <= step]
        tmp = self.metrics_path.with_suffix(".tmp")
        tmp.write_text("".join(k + "\n" for k in kept))
        os.replace(tmp, self.metrics_path)

    def _snapshot(self) -> None:
        from safetensors.torch import save_file

        model_state = self._gather_model_state()
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
        from safetensors.torch import load_file

        model_state = self._gather_model_state()
        snaps = self.progress.anneal_snapshots
        final = self.out / "final"
        if self.rank == 0:
            if snaps:
                total = None
                for name in snaps:
                    state = load_file(str(self.out / "anneal_snapshots" / name))
                    total = state if total is None else {k: total[k] + state[k] for k in total}
                model_state = {k: v / len(snaps) for k, v in total.items()}
            plain = model_from_state(self.model_cfg, model_state)
            save_model(plain, final, tokenizer=self._tokenizer() if self.job.tokenizer else None)
            self.progress.stage_status["final"] = {"averaged_snapshots": len(snaps)}
        self._barrier()
        return final

    def _write_metrics(self, record: dict[str, Any]) -> None:
        if self.rank != 0:
            return
        with open(self.metrics_path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def _last_metrics(self) -> dict[str, Any] | None:
        if self.rank != 0 or not self.metrics_path.exists():
            return None
        steps = [json.loads(x) for x in self.metrics_path.read_text().splitlines() if '"loss"' in x]
        return steps[-1] if steps else None

    def _barrier(self) -> None:
        if self.layout.setup is not None:
            dist.barrier()


def _cpu(tree):
    """``tree`` with every tensor moved to CPU memory (what rank 0 gathers and saves)."""
    from torch.utils._pytree import tree_map

    return tree_map(lambda x: x.detach().cpu() if isinstance(x, torch.Tensor) else x, tree)


def _single_process(model, cfg: NemoTrainerConfig):
    """One process: no mesh to shard over; activation checkpointing still applies."""
    if cfg.recompute != "none":
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model
