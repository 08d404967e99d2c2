"""The ``nemo`` backend's process layout: validation of tp/cp/pp/dp against the model and
the schedule, the process group (gloo on CPU, nccl on GPU, chosen by the device), NeMo
AutoModel's ``DistributedSetup`` (its FSDP2 device mesh over pp x dp x cp x tp), and the
small collective helpers the training loop needs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from herd.core.errors import ConfigError
from herd.core.protocols import ParallelSizes, TrainingLayout, TrainJob
from herd.lib.llama.model import LlamaConfig
from herd.plugins.nemo.config import RECOMPUTE, NemoTrainerConfig

PP_SCHEDULES = ("1f1b", "gpipe")


def layout_problems(layout: TrainingLayout) -> list[str]:
    """The pretraining layouts this backend refuses whatever the schedule, each naming the
    config key and the fix (``herd run --check`` and ``validate_layout`` share them)."""
    p, key, model = layout.parallel, f"[{layout.section}]", layout.model
    problems = [f"{key} {k}={getattr(p, k)}: parallel sizes must be at least 1" for k in ("tp", "cp", "pp", "dp")
                if getattr(p, k) < 1]
    if model is not None:
        if p.tp > 1 and (model.n_kv_heads % p.tp or model.n_heads % p.tp or model.ffn_dim % p.tp):
            problems.append(f"{key} tp={p.tp} must divide n_heads ({model.n_heads}), n_kv_heads "
                            f"({model.n_kv_heads}) and ffn_dim ({model.ffn_dim})")
        if p.pp > model.n_layers:
            problems.append(f"{key} pp={p.pp} exceeds the model's {model.n_layers} layers (one layer per stage at least)")
        if p.pp > 1 and model.tie_embeddings:
            problems.append(f"{key} pp > 1 needs untied input and output embeddings (the model ties them); "
                            "use tp/dp for this model")
    return problems


def validate_layout(job: TrainJob, model: LlamaConfig, cfg: NemoTrainerConfig, device: str) -> None:
    """Refuse layouts the backend cannot run, naming the config key and the fix."""
    from herd.lib.training.parallelize import model_shape

    p = job.parallel
    problems = layout_problems(TrainingLayout("pretrain", "pretrain", "nemo", p, "pretrain", model_shape(model), device))
    if problems:
        raise ConfigError(problems[0])
    if p.cp > 1:
        for stage in job.stages:
            for seq in [stage.seq_len] + [r[2] for r in stage.batch_ramp]:
                if seq % (2 * p.cp):
                    raise ConfigError(f"stage {stage.name}: sequence length {seq} is not divisible by 2 x cp = "
                                      f"{2 * p.cp} (load-balanced context parallelism splits it into 2 x cp chunks)")
    if cfg.recompute not in RECOMPUTE:
        raise ConfigError(f"[trainers.nemo] recompute={cfg.recompute!r}; one of {', '.join(RECOMPUTE)}")
    if cfg.pp_schedule not in PP_SCHEDULES:
        raise ConfigError(f"[trainers.nemo] pp_schedule={cfg.pp_schedule!r}; one of {', '.join(PP_SCHEDULES)}")


def pick_device(cfg: NemoTrainerConfig) -> str:
    if cfg.device != "auto":
        return cfg.device
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class Layout:
    """This process's place in the mesh (all zeros and ``None`` for one process)."""

    setup: object | None  # nemo_automodel DistributedSetup
    rank: int = 0
    dp_rank: int = 0

    @property
    def mesh(self):
        return None if self.setup is None else self.setup.mesh_context.device_mesh

    def group(self, axis: str):
        """The process group of mesh axis ``axis`` (``pp``, ``dp``, ``cp``, ``tp``) or ``None``."""
        mesh = self.mesh
        if mesh is None:
            return None
        try:
            sub = mesh[axis]
        except (KeyError, RuntimeError, ValueError):
            return None
        return sub.get_group() if sub.size() > 1 else None

    def submesh(self, axis: str):
        mesh = self.mesh
        return None if mesh is None else mesh[axis]


def start_process_group(device: str, timeout_minutes: int) -> None:
    """Join the torchrun job's process group: nccl for CUDA, gloo otherwise."""
    if dist.is_initialized():
        return
    if device == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if device == "cuda" else "gloo", timeout=timedelta(minutes=timeout_minutes))


def build_layout(parallel: ParallelSizes, cfg: NemoTrainerConfig, device: str) -> Layout:
    """NeMo AutoModel's ``DistributedSetup`` for ``parallel`` (FSDP2 over dp, DTensor TP,
    context and pipeline axes), or an empty layout for one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world != parallel.world_size:
        raise ConfigError(f"[pretrain] tp*cp*pp*dp = {parallel.world_size} but {world} processes were started; "
                          "launch with torchrun --nproc_per_node equal to that product")
    if world == 1:
        return Layout(setup=None)
    from torch.distributed.fsdp import MixedPrecisionPolicy

    from nemo_automodel.components.distributed.config import DistributedSetup, FSDP2Config
    from nemo_automodel.components.distributed.mesh import ParallelismSizes

    start_process_group(device, cfg.dist_timeout_minutes)
    # NeMo's FSDP2 default computes in bf16; on CPU (and with bf16 off) herd keeps fp32 so
    # that every layout follows the single-process loss curve. Gradients reduce in fp32.
    bf16 = device == "cuda" and cfg.bf16
    policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16 if bf16 else torch.float32, reduce_dtype=torch.float32)
    setup = DistributedSetup.build(
        FSDP2Config(mp_policy=policy),
        parallelism_sizes=ParallelismSizes(dp_size=parallel.dp, tp_size=parallel.tp, pp_size=parallel.pp,
                                           cp_size=parallel.cp),
        activation_checkpointing={"none": False, "selective": "selective", "full": True}[cfg.recompute],
        pipeline_config=None,
        world_size=world,
        timeout_minutes=cfg.dist_timeout_minutes,
    )
    mesh = setup.mesh_context.device_mesh
    dp_rank = mesh["dp"].get_local_rank() if parallel.dp > 1 else 0
    return Layout(setup=setup, rank=dist.get_rank(), dp_rank=dp_rank)


def all_reduce_sum(value: torch.Tensor, layout: Layout, axes: tuple[str, ...]) -> torch.Tensor:
    for axis in axes:
        group = layout.group(axis)
        if group is not None:
            dist.all_reduce(value, group=group)
    return value
