"""The nemo backend's post-training (``NemoTrainer.post_train``): the policy as its exact
Hugging Face equivalent (``hf_model``), sharded by NeMo AutoModel the way pretraining is
(``DistributedSetup`` mesh, ``parallelize_model``: FSDP2 over dp, DTensor tensor parallel
over tp), on the shared post-training loops (``herd.lib.posttraining``).

FSDP2 averages gradients over dp, so the loops scale their losses by dp; DPO runs the
model's own forward (``through_forward``) so FSDP's hooks gather the weights. The reward
model (a ``LlamaForSequenceClassification`` whose head reads chosen positions) trains
data-parallel with the loops' gradient all-reduce, unsharded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from herd.core.errors import ConfigError
from herd.core.protocols import PostTrainJob, TrainingLayout
from herd.lib.posttraining.job import PostTrainBackend, fresh_reward_model, herd_policy
from herd.lib.posttraining.parallel import DataParallel
from herd.lib.training.parallelize import tp_problems
from herd.plugins.nemo import hf_model
from herd.plugins.nemo.config import NemoTrainerConfig
from herd.plugins.nemo.distributed import build_layout


def posttrain_problems(layout: TrainingLayout) -> list[str]:
    p, key = layout.parallel, f"[{layout.section}]"
    problems = [f"{key} {k}={getattr(p, k)} must be at least 1" for k in ("tp", "cp", "pp", "dp") if getattr(p, k) < 1]
    for name in ("pp", "cp"):
        if getattr(p, name) > 1:
            problems.append(f"{key} {name}={getattr(p, name)}: nemo post-training runs tp and dp (the DPO and reward "
                            f"layouts use per-sequence attention masks, with a shared prompt, that the pipeline path and "
                            f"the document-masked cp attention do not take); set {layout.section}.{name}=1 and raise dp or tp instead")
    if layout.model is not None:
        problems += tp_problems(layout.model, p.tp, layout.section)
    return problems


class NemoPostTrain(PostTrainBackend):
    through_forward = True

    def __init__(self, job: PostTrainJob, cfg: NemoTrainerConfig):
        self.job = job
        self.device = cfg.device if job.device == "auto" else job.device
        if self.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.bf16 = job.dtype == "bfloat16"
        # The job's dtype decides FSDP's compute precision (param_dtype); gradients reduce in fp32.
        self.layout = build_layout(job.parallel, dataclasses.replace(cfg, bf16=self.bf16, device=self.device),
                                   self.device)
        self.rank = self.layout.rank

    def data_parallel(self, kind: str) -> DataParallel:
        p = self.job.parallel
        sharded = self.layout.setup is not None and kind != "reward_model"
        # FSDP's mixed precision covers bf16 for sharded models; the others autocast.
        autocast = torch.bfloat16 if self.bf16 and not sharded else None
        if p.dp == 1:
            return DataParallel(device=self.device, autocast_dtype=autocast)
        return DataParallel(rank=self.layout.dp_rank, size=p.dp, group=self.layout.group("dp"),
                            reduce_grads=not sharded, device=self.device, autocast_dtype=autocast)

    def policy(self, model_dir: Path, trainable: bool) -> torch.nn.Module:
        start = herd_policy(model_dir, "cpu", True)
        hf = hf_model.hf_module(start.cfg, start.state_dict())
        del start
        hf.requires_grad_(trainable)
        if self.layout.setup is None:
            return hf.to(self.device)
        from nemo_automodel.components.distributed.model_parallelizer import parallelize_model

        return parallelize_model(hf.to(self.device), self.layout.setup.mesh_context)

    def policy_state(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        if self.layout.setup is None:
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        else:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

            state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        return {k: v for k, v in hf_model.to_herd_names(state).items() if not k.endswith("rotary_emb.inv_freq")}

    def reward_model(self, model_dir: Path, seed: int) -> torch.nn.Module:
        if self.job.parallel.tp > 1:
            raise ConfigError(f"reward-model job: tp={self.job.parallel.tp}, but the reward model trains with data "
                              "parallel only; give its job parallel=ParallelSizes(dp=tp*dp)")
        return fresh_reward_model(model_dir, seed, self.device)
