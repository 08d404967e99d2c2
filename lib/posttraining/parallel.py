"""How the post-training loops (``sft``, ``dpo``, ``reward``) run on several data-parallel
ranks with the single-process arithmetic.

Every rank walks the same shuffled batches; rank ``r`` of ``n`` takes items ``r, r+n, ...``
of each batch. A loss is a sum over this rank's items divided by the *global* count of
the batch (pairs, target tokens), so the gradients summed over ranks are exactly the
single-process gradient of the batch mean. A rank left without items (a batch smaller
than ``n``) still runs the forward and backward (wrapped models need every rank in each
collective) on a stand-in item whose loss is multiplied by 0.

Gradients meet in one of two ways: ``reduce_grads`` (herd's own DDP arithmetic: one
flattened all-reduce SUM per step, which also covers DTensor tensor-parallel parameters
and a model whose sub-modules the loops call directly), or a wrapper that already
averages them (FSDP2: the loss is then scaled by ``size`` so the average is the sum).
"""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Sequence, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


@dataclass
class DataParallel:
    rank: int = 0
    size: int = 1
    group: Any = None  # the data-parallel process group (None: the default group)
    reduce_grads: bool = True  # False: a wrapper (FSDP2) averages gradients over the group
    device: str = "cpu"  # where the model is: batches are moved there
    autocast_dtype: torch.dtype | None = None  # bfloat16: mixed precision on ``device``

    def put(self, batch: T) -> T:
        """``batch`` (a dataclass of tensors and plain values) on ``device``."""
        if self.device == "cpu":
            return batch
        moved = {f.name: getattr(batch, f.name) for f in dataclasses.fields(batch)}
        return dataclasses.replace(batch, **{k: v.to(self.device) for k, v in moved.items()
                                             if isinstance(v, torch.Tensor)})

    def share(self, items: Sequence[T]) -> tuple[list[T], float]:
        """This rank's items of a batch and the weight of its loss (0 for a stand-in)."""
        mine = list(items[self.rank :: self.size])
        if mine:
            return mine, 1.0
        return [items[0]], 0.0

    @property
    def loss_scale(self) -> float:
        return 1.0 if self.reduce_grads else float(self.size)

    def all_sum(self, value: torch.Tensor) -> torch.Tensor:
        if self.size == 1:
            return value
        value = value.detach().clone()
        dist.all_reduce(value, group=self.group)
        return value

    def sync_grads(self, params: Sequence[torch.nn.Parameter]) -> None:
        """Sum every gradient over the data-parallel ranks (one flat all-reduce)."""
        if self.size == 1 or not self.reduce_grads:
            return
        from torch.distributed.tensor import DTensor

        grads = [p.grad.to_local() if isinstance(p.grad, DTensor) else p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat, group=self.group)
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def autocast(self):
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(self.device, dtype=self.autocast_dtype)


SINGLE = DataParallel()


def clip_and_step(params: list[torch.nn.Parameter], optimizer: torch.optim.Optimizer, dp: DataParallel,
                  max_norm: float = 1.0) -> float:
    """Sum gradients over ranks, clip to ``max_norm`` (global norm, DTensor-aware) and step;
    the gradient norm before clipping."""
    from herd.lib.training.parallelize import clip_grad_norm

    dp.sync_grads(params)
    norm = clip_grad_norm(params, max_norm)
    optimizer.step()
    return norm
