"""``[nemo]``: how the NeMo backend's jobs are launched (NeMo-Run executors) and which
engine runs them. What is trained (model, schedule, parallel sizes) stays in
``[pretrain]``, shared with the torch backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from herd.core.config import positive

EXECUTORS = ("local", "docker", "slurm", "k8s", "skypilot")
ENGINES = ("automodel", "megatron-bridge")


@dataclass
class NemoConfig:
    engine: str = "automodel"  # automodel: herd's loop on NeMo AutoModel; megatron-bridge: out of process
    executor: str = "local"  # one of EXECUTORS
    gpus_per_node: int = 8  # cluster executors; local runs one process per rank
    micro_batch: int = 1  # sequences per micro-batch (Megatron-Bridge train.micro_batch_size)
    recompute: str = "selective"  # none | selective | full (activation checkpointing)
    container_image: str = ""  # required by docker, slurm, k8s and skypilot
    herd_dir: str = "/opt/herd"  # where herd is installed inside the container
    megatron_bridge_dir: str = "/opt/Megatron-Bridge"  # its checkout inside the container
    data_path: list[str] = field(default_factory=list)  # Megatron indexed prefixes (megatron-bridge)
    env: dict[str, str] = field(default_factory=dict)  # extra environment of every rank
    mounts: list[str] = field(default_factory=list)  # "host:container" (the run dir is always mounted)
    slurm_account: str = ""
    slurm_partition: str = ""
    slurm_time: str = "04:00:00"
    # The curation job (curate and mix, when the run directory lacks them): its nodes when
    # curate.executor = "ray" (a Ray cluster; the local executor uses one node) and its time.
    curate_nodes: int = positive(1)
    curate_time: str = "04:00:00"
    k8s_namespace: str = "default"

    PROFILES: ClassVar[dict[str, dict]] = {
        "full": {"executor": "slurm", "recompute": "selective"},
    }


RECOMPUTE = ("none", "selective", "full")


@dataclass
class NemoTrainerConfig:
    """``[trainers.nemo]``: the ``nemo`` backend's own knobs. What it trains (model, stage
    schedule, global batch, tp/cp/pp/dp) is the backend-neutral ``TrainJob`` from
    ``[pretrain]``; these say how (micro-batches, activation checkpointing, optimizer)."""

    device: str = "auto"  # auto: cuda when available (nccl), else cpu (gloo)
    bf16: bool = True  # bf16 autocast on CUDA
    micro_batch_rows: int = 0  # sequences per micro-batch; 0 = the local batch (pp > 1: local batch / pp)
    recompute: str = "none"  # activation checkpointing: none | selective | full (one of RECOMPUTE)
    pp_schedule: str = "1f1b"  # torch.distributed.pipelining schedule with one stage per rank: 1f1b | gpipe
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0
    checkpoint_every: int = 50
    keep_checkpoints: int = 2
    average_every: int = 5  # anneal: snapshot for the Polyak average every N steps
    eval_rows: int = 16  # short-context validation sequences
    threads: int = 0  # torch intra-op threads per rank; 0 = torch's default
    dist_timeout_minutes: int = 60  # collectives; other ranks wait this long for rank 0's data preparation

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"checkpoint_every": 20, "eval_rows": 8, "average_every": 3},
        "full": {"checkpoint_every": 500, "average_every": 100, "eval_rows": 64, "recompute": "selective"},
    }
