"""The torch backend's post-training (``TorchTrainer.post_train``): herd's ``Llama`` in one
process, or under torchrun with tensor parallelism (DTensor, ``apply_tp``: the same split
as pretraining) over ``tp`` and data parallelism over ``dp``.

Data parallel here is DDP's arithmetic done by the loops (``herd.lib.posttraining.parallel``:
one flat all-reduce of the gradients per step) rather than FSDP2: the DPO and reward-model
layouts call the model's blocks directly with their own attention masks, which a wrapper's
forward hooks would not see. Each rank keeps a full replica (or its tensor-parallel shard)
of the policy, so post-training memory per GPU is the model's, not the model's / dp.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.distributed as dist

from herd.core.errors import ConfigError
from herd.core.protocols import PostTrainJob, TrainingLayout
from herd.lib.posttraining.job import PostTrainBackend, fresh_reward_model, herd_policy
from herd.lib.posttraining.parallel import DataParallel
from herd.lib.training.parallelize import apply_tp, init_distributed, tp_problems


def layout_problems(layout: TrainingLayout) -> list[str]:
    """What the torch backend refuses: pipeline and context parallel (any purpose), and a
    tp that does not divide the model's heads, FFN and vocabulary."""
    p, key = layout.parallel, f"[{layout.section}]"
    problems = [f"{key} {k}={getattr(p, k)} must be at least 1" for k in ("tp", "cp", "pp", "dp") if getattr(p, k) < 1]
    for name in ("pp", "cp"):
        if getattr(p, name) > 1:
            problems.append(f"{key} {name}={getattr(p, name)}: the torch trainer runs only tp and dp; set "
                            f"{layout.section}.{name}=1 (folding it into dp) or {layout.section}.trainer=\"nemo\", "
                            "which runs pipeline and context parallel")
    if layout.model is not None:
        problems += tp_problems(layout.model, p.tp, layout.section)
    return problems


def pick_device(requested: str) -> str:
    if requested != "auto":
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchPostTrain(PostTrainBackend):
    def __init__(self, job: PostTrainJob, deterministic: bool = True):
        self.job = job
        self.device = pick_device(job.device)
        if self.device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            if deterministic:
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
                torch.use_deterministic_algorithms(True, warn_only=True)
        self.mesh = init_distributed(job.parallel, self.device, section="posttrain")
        self.rank = dist.get_rank() if self.mesh is not None else 0
        self.tp = job.parallel.tp

    def data_parallel(self, kind: str) -> DataParallel:
        p = self.job.parallel
        bf16 = torch.bfloat16 if self.job.dtype == "bfloat16" else None
        if self.mesh is None or p.dp == 1:
            return DataParallel(device=self.device, autocast_dtype=bf16)
        dp_mesh = self.mesh["dp"]
        return DataParallel(rank=dp_mesh.get_local_rank(), size=p.dp, group=dp_mesh.get_group(), reduce_grads=True,
                            device=self.device, autocast_dtype=bf16)

    def policy(self, model_dir: Path, trainable: bool) -> torch.nn.Module:
        model = herd_policy(model_dir, self.device, trainable)
        if self.tp > 1:
            apply_tp(model, self.mesh["tp"], self.tp)
        return model

    def policy_state(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        if self.tp == 1:
            return {k: v.detach().cpu() for k, v in model.state_dict().items()}
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))

    def reward_model(self, model_dir: Path, seed: int) -> torch.nn.Module:
        if self.tp > 1:
            raise ConfigError(f"reward-model job: tp={self.tp}, but the reward model trains with data parallel only; "
                              "give its job parallel=ParallelSizes(dp=tp*dp)")
        return fresh_reward_model(model_dir, seed, self.device)
