"""Parallelism applied to herd's ``Llama`` from outside the model file (torchtitan's
``parallelize_llama``): tensor parallel with DTensor (``parallelize_module``) over the
``tp`` mesh dimension, then FSDP2 (``fully_shard``) over ``dp``.

Tensor parallel follows Megatron's split: q/k/v and the SwiGLU gate/up projections are
column-parallel (each rank holds a slice of the heads and of the FFN), o/down projections
row-parallel, so each block needs one all-reduce after attention and one after the MLP.
The model's attention infers its local head count from the shapes, so the same forward
runs on a shard. Pipeline and context parallel are not implemented by this backend.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from herd.core.errors import ConfigError
from herd.core.protocols import ModelShape, ParallelSizes


def init_distributed(parallel: ParallelSizes, device_type: str, section: str = "pretrain"):
    """Start the process group (under ``torchrun``) and build the ``(dp, tp)`` device mesh;
    returns ``None`` for a single process. ``section`` names the config that set the sizes."""
    if parallel.pp > 1 or parallel.cp > 1:
        raise ConfigError(f"[{section}] pp={parallel.pp} cp={parallel.cp}: the torch backend implements only "
                          "tp and dp; use a backend with pipeline/context parallel (nemo) for these")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world != parallel.world_size:
        raise ConfigError(f"[{section}] tp*dp = {parallel.world_size} but {world} processes were started; "
                          "launch with torchrun --nproc_per_node equal to tp*dp")
    if world == 1:
        return None
    from torch.distributed.device_mesh import init_device_mesh

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return init_device_mesh(device_type, (parallel.dp, parallel.tp), mesh_dim_names=("dp", "tp"))


def parallelize_llama(model: torch.nn.Module, mesh, parallel: ParallelSizes) -> torch.nn.Module:
    if mesh is None:
        return model
    if parallel.tp > 1:
        apply_tp(model, mesh["tp"], parallel.tp)
    if parallel.dp > 1:
        apply_fsdp(model, mesh["dp"])
    return model


def tp_problems(model: ModelShape, tp: int, section: str = "pretrain") -> list[str]:
    """Why ``apply_tp`` cannot split ``model`` over ``tp`` ranks (empty: it can)."""
    if tp <= 1:
        return []
    dims = {"n_heads": model.n_heads, "n_kv_heads": model.n_kv_heads, "ffn_dim": model.ffn_dim,
            "vocab_size": model.vocab_size}
    bad = {k: v for k, v in dims.items() if v % tp}
    if not bad:
        return []
    return [f"[{section}] tp={tp} must divide {', '.join(f'{k} ({v})' for k, v in bad.items())}; "
            f"pick a tp that divides every one of {dims}"]


def model_shape(cfg) -> ModelShape:
    """The ``ModelShape`` of a ``LlamaConfig``."""
    return ModelShape(n_layers=cfg.n_layers, n_heads=cfg.n_heads, n_kv_heads=cfg.n_kv_heads, ffn_dim=cfg.ffn_dim,
                      vocab_size=cfg.vocab_size, tie_embeddings=cfg.tie_embeddings)


def apply_tp(model: torch.nn.Module, tp_mesh, tp: int) -> None:
    from torch.distributed.tensor import Replicate
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    cfg = model.cfg
    if cfg.n_kv_heads % tp or cfg.ffn_dim % tp or cfg.vocab_size % tp:
        raise ConfigError(f"[pretrain] tp={tp} must divide n_kv_heads ({cfg.n_kv_heads}), ffn_dim ({cfg.ffn_dim}) "
                          f"and vocab_size ({cfg.vocab_size})")
    parallelize_module(model, tp_mesh, {
        "embed_tokens": RowwiseParallel(input_layouts=Replicate(), output_layouts=Replicate()),
        "lm_head": ColwiseParallel(output_layouts=Replicate()),
    })
    for block in model.layers:
        parallelize_module(block, tp_mesh, {
            "self_attn.q_proj": ColwiseParallel(),
            "self_attn.k_proj": ColwiseParallel(),
            "self_attn.v_proj": ColwiseParallel(),
            "self_attn.o_proj": RowwiseParallel(),
            "mlp.gate_proj": ColwiseParallel(),
            "mlp.up_proj": ColwiseParallel(),
            "mlp.down_proj": RowwiseParallel(),
        })


def apply_fsdp(model: torch.nn.Module, dp_mesh) -> None:
    from torch.distributed.fsdp import fully_shard

    for block in model.layers:
        fully_shard(block, mesh=dp_mesh)
    fully_shard(model, mesh=dp_mesh)


def clip_grad_norm(params: list[torch.nn.Parameter], max_norm: float) -> float:
    """Total gradient norm (clipped to ``max_norm`` when > 0) over plain and DTensor grads."""
    from torch.distributed.tensor import DTensor

    norms = []
    for p in params:
        if p.grad is None:
            continue
        n = torch.linalg.vector_norm(p.grad.float())
        norms.append(n.full_tensor() if isinstance(n, DTensor) else n)
    total = torch.linalg.vector_norm(torch.stack(norms)) if norms else torch.tensor(0.0)
    if max_norm > 0:
        coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        for p in params:
            if p.grad is not None:
                p.grad.mul_(coef.to(p.grad.device) if not isinstance(p.grad, DTensor) else coef.item())
    return float(total)
