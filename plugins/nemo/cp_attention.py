"""Context parallelism that keeps packed documents apart (issue 18).

torch's ring attention (``context_parallel``) takes no mask but "causal", so packed documents
would attend across their boundaries. herd follows the Llama 3 report's all-gather context
parallelism instead (docs/recipe.md section 3 lists CP among the four axes): the sequence is
cut into 2 x cp chunks and rank r keeps chunks r and 2cp-1-r (load balance of causal work),
every layer all-gathers the keys and
values of the cp group, and each rank attends its own query chunks to them under a mask that
allows a pair of tokens iff they are in the same document and the key is not later than the
query. The mask is built from the full row's document ids, which every cp rank holds (the
batch is sharded only at the model's input), so documents that cross a shard boundary, or
span every shard, stay one document and nothing leaks between neighbours.

``sharded_document_attention`` is the arithmetic (given the gathered keys and values);
``document_cp_attention`` is the Hugging Face attention function that gathers them over the
cp group and calls it. SDPA with a boolean mask runs the memory-efficient kernel on CUDA and
the CPU kernel elsewhere, so the same code trains on GPUs and on gloo ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F

from herd.core.errors import ConfigError

ATTN_IMPLEMENTATION = "herd_document_cp"


@dataclass(frozen=True)
class CPShards:
    """Load-balanced layout of a ``seq``-token row over ``cp`` ranks, seen from ``rank``."""

    cp: int
    rank: int
    seq: int

    def __post_init__(self):
        if not 0 <= self.rank < self.cp:
            raise ValueError(f"cp rank {self.rank} outside 0..{self.cp - 1}")
        if self.seq % (2 * self.cp):
            raise ConfigError(f"sequence length {self.seq} is not divisible by 2 x cp = {2 * self.cp} "
                              "(load-balanced context parallelism splits it into 2 x cp chunks)")

    @property
    def chunk(self) -> int:
        return self.seq // (2 * self.cp)

    @property
    def chunks(self) -> tuple[int, int]:
        """The two chunk numbers this rank holds, in the order its local tokens follow."""
        return self.rank, 2 * self.cp - 1 - self.rank

    def index(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """Positions in the full row of this rank's local tokens."""
        return torch.cat([torch.arange(c * self.chunk, (c + 1) * self.chunk, device=device) for c in self.chunks])

    def take(self, rows: torch.Tensor) -> torch.Tensor:
        """This rank's share of a ``(batch, seq, ...)`` tensor."""
        if rows.shape[1] != self.seq:
            raise ValueError(f"row of {rows.shape[1]} tokens, the cp layout was made for {self.seq}")
        return rows.index_select(1, self.index(rows.device))

    def for_rank(self, rank: int) -> CPShards:
        return CPShards(self.cp, rank, self.seq)

    def gathered_index(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """Positions in the full row of an all-gather's output (rank 0's tokens, then rank 1's, ...)."""
        return torch.cat([self.for_rank(r).index(device) for r in range(self.cp)])


def reassemble(parts: list[torch.Tensor], cp: int) -> torch.Tensor:
    """The full ``(batch, seq, ...)`` tensor from every rank's share (rank order)."""
    gathered = torch.cat(parts, dim=1)
    shards = CPShards(cp, 0, gathered.shape[1])
    return gathered.index_select(1, torch.argsort(shards.gathered_index(gathered.device)))


def sharded_document_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, doc_ids: torch.Tensor,
                               shards: CPShards, scaling: float | None = None) -> torch.Tensor:
    """Attention of this rank's queries ``(b, h, 2 x chunk, d)`` to the gathered keys and values
    ``(b, h_kv, seq, d)`` (rank order, as an all-gather leaves them), document-masked and causal
    in full-row positions; ``doc_ids`` is the full ``(b, seq)`` row. Each query chunk reads only
    the key chunks up to its own (the later ones are all masked), so every rank does the same
    work. Returns ``(b, h, 2 x chunk, d)``."""
    if query.shape[1] % key.shape[1]:
        raise ValueError(f"{query.shape[1]} query heads are not a multiple of {key.shape[1]} key-value heads")
    order = torch.argsort(shards.gathered_index(key.device))
    groups = query.shape[1] // key.shape[1]
    key = key.index_select(2, order).repeat_interleave(groups, dim=1)
    value = value.index_select(2, order).repeat_interleave(groups, dim=1)
    size, docs = shards.chunk, doc_ids.to(key.device)
    out = []
    for i, chunk in enumerate(shards.chunks):
        q = query[:, :, i * size : (i + 1) * size]
        end = (chunk + 1) * size
        q_pos = torch.arange(chunk * size, end, device=key.device)
        k_pos = torch.arange(end, device=key.device)
        same = docs[:, q_pos, None] == docs[:, None, :end]
        mask = (same & (k_pos[None, :] <= q_pos[:, None])).unsqueeze(1)
        out.append(F.scaled_dot_product_attention(q, key[:, :, :end], value[:, :, :end], attn_mask=mask,
                                                  scale=scaling))
    return torch.cat(out, dim=2)


@dataclass(frozen=True)
class DocumentCP:
    """What a layer needs to attend under cp: the cp group, this rank's layout and the full
    rows' document ids. Passed as the model's ``document_cp`` keyword, so activation
    recomputation and pipeline stages see it with the rest of their inputs."""

    group: dist.ProcessGroup
    shards: CPShards
    doc_ids: torch.Tensor


class _GatherSeq(torch.autograd.Function):
    """All-gather along the sequence dim (2); the backward sums every rank's gradient of the
    gathered tensor and keeps this rank's slice (reduce-scatter on nccl; gloo has none)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, group: dist.ProcessGroup) -> torch.Tensor:
        ctx.group, ctx.length = group, x.shape[2]
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size(group))]
        dist.all_gather(parts, x.contiguous(), group=group)
        return torch.cat(parts, dim=2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        rank = dist.get_rank(ctx.group)
        parts = [p.contiguous() for p in grad.split(ctx.length, dim=2)]
        if dist.get_backend(ctx.group) == dist.Backend.NCCL:
            mine = torch.empty_like(parts[rank])
            dist.reduce_scatter(mine, parts, group=ctx.group)
            return mine, None
        total = grad.contiguous()
        dist.all_reduce(total, group=ctx.group)
        return total.narrow(2, rank * ctx.length, ctx.length).contiguous(), None


def document_cp_attention(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                          attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
                          document_cp: DocumentCP | None = None, **_kwargs) -> tuple[torch.Tensor, None]:
    """A ``transformers`` attention function (registered as ``herd_document_cp``). The
    ``DocumentCP`` comes as the ``document_cp`` keyword, or under pipelining as the layer's
    attention mask (``packed.cp_stage_inputs``)."""
    if document_cp is None and isinstance(attention_mask, DocumentCP):
        document_cp = attention_mask
    if document_cp is None:
        raise RuntimeError(f"attention {ATTN_IMPLEMENTATION!r} runs under context parallelism only: the forward "
                           "needs document_cp=DocumentCP(...) (the nemo trainer passes it)")
    key = _GatherSeq.apply(key, document_cp.group)
    value = _GatherSeq.apply(value, document_cp.group)
    out = sharded_document_attention(query, key, value, document_cp.doc_ids, document_cp.shards, scaling)
    return out.transpose(1, 2).contiguous(), None


def register() -> str:
    """Make ``herd_document_cp`` a ``transformers`` attention implementation; returns its name."""
    from transformers import AttentionInterface

    AttentionInterface.register(ATTN_IMPLEMENTATION, document_cp_attention)
    return ATTN_IMPLEMENTATION


def simulate_ranks(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, doc_ids: torch.Tensor,
                   cp: int) -> torch.Tensor:
    """Every cp rank's attention computed in one process from full-row ``(b, h, seq, d)``
    tensors: each rank's share of the queries against the keys and values gathered in rank
    order (what the all-gather hands each rank), reassembled to full-row order. Equal to
    document-masked causal attention over the full rows; the tests and the GPU check compare
    the two."""
    shards = [CPShards(cp, r, query.shape[2]) for r in range(cp)]

    def share(x: torch.Tensor, s: CPShards) -> torch.Tensor:
        return s.take(x.transpose(1, 2)).transpose(1, 2)

    key_all = torch.cat([share(key, s) for s in shards], dim=2)
    value_all = torch.cat([share(value, s) for s in shards], dim=2)
    outs = [sharded_document_attention(share(query, s), key_all, value_all, doc_ids, s).transpose(1, 2) for s in shards]
    return reassemble(outs, cp).transpose(1, 2)
