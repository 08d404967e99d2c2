"""The ``nemo`` training backend: herd's ``TrainJob`` on NeMo AutoModel's distributed
components (issue 10).

The model is herd's Llama as its exact Hugging Face equivalent (``hf_model``). NeMo
AutoModel builds the device mesh (``DistributedSetup``), applies FSDP2 over dp, DTensor
tensor parallelism and activation checkpointing (``parallelize_model``) and splits the
model into pipeline stages with a 1F1B schedule (``AutoPipeline``). The loop is the one
the ``torch`` backend runs (``torch_trainer.stage_loop``): the same data streams and
positions, LR and batch schedules, stage semantics (initial / continued, long-context
recovery + needle-in-a-haystack, annealing with Polyak averaging), ``metrics.jsonl``
records and checkpoint files (full model and optimizer state in herd's parameter names,
progress counters, RNG states); this module gives it the NeMo model, one training step
on it, and the state gathered from the mesh. So either backend resumes the other's checkpoints, on any
layout, and the final model is a herd checkpoint that ``export-hf`` turns into a
``transformers`` model.

Evaluation (short-context loss, needle-in-a-haystack) runs on rank 0 with herd's ``Llama``
built from the gathered weights, exactly as the torch backend evaluates.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from herd.core.errors import ConfigError, StageError
from herd.core.protocols import PostTrainJob, PostTrainResult, TrainingLayout, TrainJob, TrainResult, TrainStage
from herd.lib.llama.hf_io import model_from_state
from herd.plugins.nemo import cp_attention, hf_model
from herd.plugins.nemo.cp_attention import CPShards
from herd.plugins.nemo.config import NemoTrainerConfig
from herd.plugins.nemo.distributed import Layout, all_reduce_sum, build_layout, pick_device, validate_layout
from herd.plugins.nemo.packed import StageInputs, cp_model_inputs, packed_inputs
from herd.lib.training.niah import niah_accuracy
from herd.lib.training.stage_loop import StageLoop, StepResult, seed_everything
from herd.lib.training.job_io import job_to_dict
from herd.lib.training.launch import run_torchrun

log = logging.getLogger("herd.nemo")


class NemoTrainer:
    """``trainers: nemo``. Called in one process with ``tp*cp*pp*dp > 1`` it starts torchrun
    over that many local processes itself (so the caller's process keeps the run's
    bookkeeping); under torchrun it is one rank of the job."""

    def __init__(self, cfg: NemoTrainerConfig | None = None):
        self.cfg = cfg or NemoTrainerConfig()

    def train(self, job: TrainJob) -> TrainResult:
        device = pick_device(self.cfg)
        seed_everything(job.seed)  # before the weights are drawn: the torch backend's order
        start = hf_model.herd_model(job.model, job.init_from)
        validate_layout(job, start.cfg, self.cfg, device)
        if job.parallel.world_size > 1 and "WORLD_SIZE" not in os.environ:
            return train_under_torchrun(job, self.cfg)
        layout = build_layout(job.parallel, self.cfg, device)
        from herd.plugins.nemo.rank_entry import share_job

        share_job(job, self.cfg, layout)
        return _Run(self.cfg, job, device, layout, start).execute()

    def post_train(self, job: PostTrainJob) -> PostTrainResult:
        """A reward-model, SFT or DPO job on NeMo AutoModel's sharding (``posttrain.py``)."""
        from herd.lib.posttraining.job import run_post_train
        from herd.plugins.nemo.posttrain import NemoPostTrain, posttrain_problems

        problems = posttrain_problems(TrainingLayout("posttrain", "posttrain", "nemo", job.parallel, "posttrain"))
        if problems:
            raise ConfigError("; ".join(problems))
        return run_post_train(job, NemoPostTrain(job, self.cfg))

    def check(self, layout: TrainingLayout) -> list[str]:
        from herd.plugins.nemo.distributed import layout_problems
        from herd.plugins.nemo.posttrain import posttrain_problems

        if layout.purpose == "posttrain":
            return posttrain_problems(layout)
        return layout_problems(layout)


def train_under_torchrun(job: TrainJob, cfg: NemoTrainerConfig) -> TrainResult:
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
    code, output = run_torchrun(cmd, log, env)
    if code != 0:
        raise StageError(f"nemo trainer: torchrun exited with {code} ({_dead_rank(output)}); "
                         f"the last complete checkpoint under {out / 'checkpoints'} resumes the run. "
                         f"output tail:\n{output[-2000:]}")
    result = json.loads((out / "result.json").read_text())
    return TrainResult(checkpoint=Path(result["checkpoint"]), metrics=result["metrics"])


def _dead_rank(stderr: str) -> str:
    for line in stderr.splitlines():
        if "Failures:" in line or "exitcode" in line and "rank" in line:
            return line.strip()
    return "see stderr"


class _Run(StageLoop):
    def __init__(self, cfg: NemoTrainerConfig, job: TrainJob, device: str, layout: Layout, start):
        super().__init__(job, cfg, start.cfg, device, rank=layout.rank, dp_rank=layout.dp_rank,
                         distributed=layout.setup is not None)
        self.layout, self.p = layout, job.parallel
        self.parts, self.pipe = self._build(start)
        self.params = [p for part in self.parts for p in part.parameters() if p.requires_grad]
        self.optimizer = self._build_optimizer()
        self._ce_sum = torch.zeros((), device=device)

    # --- set-up -----------------------------------------------------------------------
    def _build(self, start):
        hf = hf_model.hf_module(self.model_cfg, start.state_dict())
        del start
        if self.layout.setup is None:
            return [_single_process(hf, self.cfg).to(self.device)], None
        from nemo_automodel.components.distributed.model_parallelizer import parallelize_model

        mesh_context = self.layout.setup.mesh_context
        if self.p.cp > 1:  # all-gather attention with the document mask (cp_attention.py)
            hf.set_attn_implementation(cp_attention.register())
        if self.p.pp == 1:
            return [parallelize_model(hf.to(self.device), mesh_context)], None
        from nemo_automodel.components.distributed.pipelining.autopipeline import AutoPipeline

        def parallelize_stage(stage_module, **_axes):  # AutoPipeline passes the axis names; the mesh has them
            return parallelize_model(stage_module, mesh_context)

        rows = self.local_rows(self.job.stages[0], 0)
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

    def _micro_rows(self, local_rows: int) -> int:
        micro = self.cfg.micro_batch_rows or (max(1, local_rows // self.p.pp) if self.p.pp > 1 else local_rows)
        if local_rows % micro:
            raise ConfigError(f"[trainers.nemo] micro_batch_rows={micro} does not divide the {local_rows} sequences "
                              f"each data-parallel rank gets per step")
        if self.p.pp > 1 and local_rows // micro < self.p.pp:
            raise ConfigError(f"[trainers.nemo] {local_rows // micro} micro-batches per step cannot fill a pipeline "
                              f"of pp={self.p.pp} stages; lower micro_batch_rows or raise the batch")
        return micro

    # --- StageLoop -------------------------------------------------------------------
    def train_batch(self, tokens, labels, docs, seq: int, n_labels: int) -> StepResult:
        # FSDP averages gradients over its dp x cp group; scaling by dp x cp makes the sum over all
        # ranks the global mean (a cp rank's gradient covers its own tokens' losses only).
        self._loss_scale = self.p.dp * self.p.cp / max(n_labels, 1)
        self._ce_sum.zero_()
        if self.pipe is not None:
            self._pipeline_step(tokens, labels, docs, seq)
        else:
            self._plain_step(tokens, labels, docs)
        grad_norm = self._clip_grad_norm()
        loss_sum = all_reduce_sum(self._ce_sum.detach().clone(), self.layout, ("pp", "cp", "dp"))
        return StepResult(loss_sum=float(loss_sum), grad_norm=grad_norm)

    def evaluate(self, niah: TrainStage | None = None) -> tuple[float, float]:
        """On rank 0, with herd's ``Llama`` built from the gathered weights; broadcast."""
        state = self.model_state()
        result = torch.zeros(2, dtype=torch.float64)
        if self.rank == 0:
            model = model_from_state(self.model_cfg, state).to(self.device).eval()
            result[0] = self.validation_loss(model)
            if niah is not None:
                result[1] = niah_accuracy(model, self.tokenizer(), niah.seq_len, self.niah_trials(niah),
                                          self.niah_seed(), self.device)
        if self.layout.setup is not None:
            result = result.to(self.device)
            dist.broadcast(result, src=0)
        return float(result[0]), float(result[1])

    def checkpoint_extra(self) -> dict[str, Any]:
        return {"backend": "nemo", "parallel": asdict(self.p)}

    def load_state(self, state: dict, path: Path) -> None:
        from torch.distributed.checkpoint.state_dict import (StateDictOptions, set_model_state_dict,
                                                             set_optimizer_state_dict)

        opts = StateDictOptions(full_state_dict=True)
        model_state = hf_model.to_hf_names(state["model"])
        optim_state = hf_model.optimizer_state_names(state["optimizer"], hf_model.to_hf_name)
        for part in self.parts:
            names = set(part.state_dict())
            set_model_state_dict(part, {k: v for k, v in model_state.items() if k in names}, options=opts)
        names = {n for part in self.parts for n, _ in part.named_parameters()}
        set_optimizer_state_dict(self.parts[0], self.optimizer, hf_model.optimizer_state_subset(optim_state, names),
                                 options=opts)

    # --- one batch ----------------------------------------------------------------------
    def _plain_step(self, tokens, labels, docs) -> None:
        model = self.parts[0]
        micro = self._micro_rows(tokens.shape[0])
        for i in range(0, tokens.shape[0], micro):
            part = slice(i, i + micro)
            if self.p.cp > 1:
                inputs, target = self._cp_inputs(tokens[part], labels[part], docs[part])
            else:
                inputs, target = {"input_ids": tokens[part], **packed_inputs(docs[part])}, labels[part]
            with torch.autocast("cuda", dtype=torch.bfloat16) if self.autocast else nullcontext():
                logits = model(**inputs).logits
            self._loss(logits, target).backward()

    def _cp_shards(self, seq: int) -> CPShards:
        return CPShards(self.p.cp, self.layout.submesh("cp").get_local_rank(), seq)

    def _cp_inputs(self, tokens, labels, docs) -> tuple[dict, torch.Tensor]:
        """This rank's load-balanced share of the rows (tokens, labels, per-document positions)
        and what its attention layers need to keep the documents apart across the cp group."""
        shards = self._cp_shards(tokens.shape[1])
        return cp_model_inputs(shards, self.layout.group("cp"), tokens, docs), shards.take(labels)

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
        cp = None
        if self.p.cp > 1:
            shards = self._cp_shards(seq)
            cp = (shards, self.layout.group("cp"))
            tokens, labels, seq = shards.take(tokens), shards.take(labels), seq // self.p.cp
        self.pipe.update_seq_len(seq)
        self._stage_inputs.load(docs, micro, cp)
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

    def model_state(self) -> dict[str, torch.Tensor]:
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

    def optimizer_state(self) -> dict:
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

        local = _cpu(get_optimizer_state_dict(self.parts[0], self.optimizer, options=self._full_options()))
        if self.pipe is not None and not self._part_is_sender():
            local = None
        pieces = [x for x in self._gather(local) if x is not None]
        if self.rank != 0:
            return {}
        return hf_model.optimizer_state_names(hf_model.merge_optimizer_states(pieces), hf_model.to_herd_name)


def _cpu(tree):
    """``tree`` with every tensor moved to CPU memory (what rank 0 gathers and saves)."""
    from torch.utils._pytree import tree_map

    return tree_map(lambda x: x.detach().cpu() if isinstance(x, torch.Tensor) else x, tree)


def _single_process(model, cfg: NemoTrainerConfig):
    """One process: no mesh to shard over; activation checkpointing still applies."""
    if cfg.recompute != "none":
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model
