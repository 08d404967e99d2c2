"""The ``torch`` training backend: runs a backend-neutral ``TrainJob`` (docs/recipe.md section 4)
on herd's ``Llama`` in one process, or under torchrun with FSDP2 data parallelism and
DTensor tensor parallelism applied from outside the model (``parallelize``).

The stage schedule, checkpoints, annealing snapshots and metrics are the shared
``StageLoop``'s; this module is how the torch backend builds the model and optimizer,
trains on a batch, reads and loads the full state, and evaluates. On CPU a resumed run is
bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import os
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from herd.core.errors import ConfigError
from herd.core.protocols import (ParallelSizes, PostTrainJob, PostTrainResult, TrainingLayout, TrainJob, TrainResult,
                                 TrainStage)
from herd.lib.llama.hf_io import load_model
from herd.lib.llama.model import Llama, config_for
from herd.plugins.torch_trainer.config import TorchTrainerConfig
from herd.lib.training.niah import niah_accuracy
from herd.lib.training.parallelize import clip_grad_norm, init_distributed, parallelize_llama
from herd.lib.training.stage_loop import StageLoop, StepResult, seed_everything


class TorchTrainer:
    def __init__(self, cfg: TorchTrainerConfig | None = None):
        self.cfg = cfg or TorchTrainerConfig()

    def train(self, job: TrainJob) -> TrainResult:
        device = self.cfg.device if self.cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        if device == "cuda" and "LOCAL_RANK" in os.environ:
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        mesh = init_distributed(job.parallel, device)
        return _Run(self.cfg, job, device, mesh).execute()

    def post_train(self, job: PostTrainJob) -> PostTrainResult:
        """A reward-model, SFT or DPO job (``plugins/torch_trainer/posttrain.py``)."""
        from herd.lib.posttraining.job import run_post_train
        from herd.plugins.torch_trainer.posttrain import TorchPostTrain, layout_problems

        problems = layout_problems(TrainingLayout("posttrain", "posttrain", "torch", job.parallel, "posttrain"))
        if problems:
            raise ConfigError("; ".join(problems))
        backend = TorchPostTrain(job, self.cfg.deterministic)
        backend.peak_tflops = self.cfg.peak_tflops
        return run_post_train(job, backend)

    def check(self, layout: TrainingLayout) -> list[str]:
        from herd.plugins.torch_trainer.posttrain import layout_problems

        return layout_problems(layout)


class _Run(StageLoop):
    def __init__(self, cfg: TorchTrainerConfig, job: TrainJob, device: str, mesh):
        self.mesh = mesh
        seed_everything(job.seed)  # before the weights are drawn
        if cfg.deterministic and device == "cuda":
            # CPU kernels are deterministic already (and the switch imports the compiler stack).
            torch.use_deterministic_algorithms(True, warn_only=True)
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        self.model = self._build_model(job, device)
        super().__init__(job, cfg, self.model.cfg, device,
                         rank=dist.get_rank() if mesh is not None else 0,
                         dp_rank=mesh["dp"].get_local_rank() if mesh is not None else 0,
                         distributed=mesh is not None, peak_tflops=cfg.peak_tflops)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = self._build_optimizer()

    def _build_model(self, job: TrainJob, device: str) -> Llama:
        if job.init_from is not None:
            model = load_model(Path(job.init_from))
        else:
            spec = dict(job.model)
            size = spec.pop("size", "tiny")
            try:
                model = Llama(config_for(size, **spec))
            except (KeyError, TypeError) as err:
                raise ConfigError(f"[pretrain] model: {err}") from None
        model.to(device)
        return parallelize_llama(model, self.mesh, job.parallel)

    def _build_optimizer(self) -> torch.optim.Optimizer:
        decay = [p for p in self.params if p.dim() >= 2]
        no_decay = [p for p in self.params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        # One process: the fused AdamW kernel (one pass over each parameter); sharded
        # DTensor parameters take the per-parameter implementation.
        single = self.mesh is None
        return torch.optim.AdamW(groups, lr=0.0, betas=(self.cfg.beta1, self.cfg.beta2), eps=self.cfg.eps,
                                 fused=single, foreach=False)

    # --- StageLoop -------------------------------------------------------------------
    def train_batch(self, tokens, labels, docs, seq: int, n_labels: int) -> StepResult:
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
        if self.mesh is not None and self.dp > 1:
            dist.all_reduce(loss_sum, group=self.mesh["dp"].get_group())
        return StepResult(loss_sum=float(loss_sum), grad_norm=grad_norm)

    def model_state(self) -> dict[str, torch.Tensor]:
        from torch.distributed.checkpoint.state_dict import get_model_state_dict

        return get_model_state_dict(self.model, options=self._full())

    def optimizer_state(self) -> dict:
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

        return get_optimizer_state_dict(self.model, self.optimizer, options=self._full())

    def load_state(self, state: dict, path: Path) -> None:
        from torch.distributed.checkpoint.state_dict import (StateDictOptions, set_model_state_dict,
                                                             set_optimizer_state_dict)

        opts = StateDictOptions(full_state_dict=True)
        set_model_state_dict(self.model, state["model"], options=opts)
        set_optimizer_state_dict(self.model, self.optimizer, state["optimizer"], options=opts)

    def evaluate(self, niah: TrainStage | None = None) -> tuple[float, float]:
        """On every rank (a tensor-parallel model evaluates collectively)."""
        self.model.eval()
        short = self.validation_loss(self.model)
        accuracy = 0.0
        if niah is not None:
            accuracy = niah_accuracy(self.model, self.tokenizer(), niah.seq_len, self.niah_trials(niah),
                                     self.niah_seed(), self.device)
        self.model.train()
        return short, accuracy

    @staticmethod
    def _full():
        from torch.distributed.checkpoint.state_dict import StateDictOptions

        return StateDictOptions(full_state_dict=True, cpu_offload=True)

