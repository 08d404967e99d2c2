"""Packed sequences (docs/recipe.md section 2) for the Hugging Face Llama: positions that restart
at every document and an attention mask that stops attention across documents, the same
inputs herd's own ``Llama`` derives from ``doc_ids``.

Under pipeline parallelism torch's schedule hands keyword inputs to the first stage only,
and NeMo AutoModel's stage forward rebuilds a plain causal mask on the others (cached by
shape). ``StageInputs`` puts the document positions and mask of every micro-batch on every
stage instead, through a forward pre-hook: a stage runs its micro-batches' forwards in
order, so the hook hands out the queued micro-batch inputs one by one.

Under context parallelism a rank holds its load-balanced share of every row
(``cp_attention.CPShards``), with the positions of the full row, and its attention layers get
a ``DocumentCP`` instead of a mask: as the ``document_cp`` keyword of the model's forward,
which transformers hands to every attention call, or under pipelining (whose stage forward
passes no extra keywords to the layers) as the mask mapping's ``full_attention`` entry."""

from __future__ import annotations

from collections import deque

import torch
import torch.distributed as dist

from herd.lib.llama.model import document_mask, document_positions
from herd.plugins.nemo.cp_attention import CPShards, DocumentCP


def packed_inputs(doc_ids: torch.Tensor, pipelined: bool = False) -> dict[str, torch.Tensor | dict]:
    """Keyword inputs of ``LlamaForCausalLM`` for rows of packed documents: a 4-D boolean mask
    (True = attend), which transformers uses as is; a pipeline stage's forward (NeMo's) takes
    it as a mask mapping instead."""
    mask = document_mask(doc_ids)
    return {"position_ids": document_positions(doc_ids),
            "attention_mask": {"full_attention": mask} if pipelined else mask}


def cp_model_inputs(shards: CPShards, group: dist.ProcessGroup, tokens: torch.Tensor, doc_ids: torch.Tensor) -> dict:
    """Keyword inputs of ``LlamaForCausalLM`` for this cp rank's share of rows of packed documents."""
    return {"input_ids": shards.take(tokens), "position_ids": shards.take(document_positions(doc_ids)),
            "document_cp": DocumentCP(group, shards, doc_ids)}


def cp_stage_inputs(shards: CPShards, group: dist.ProcessGroup, doc_ids: torch.Tensor) -> dict:
    """A pipeline stage's keyword inputs for this cp rank's share of a micro-batch."""
    return {"position_ids": shards.take(document_positions(doc_ids)),
            "attention_mask": {"full_attention": DocumentCP(group, shards, doc_ids)}}


class StageInputs:
    """Feeds each pipeline stage the packed inputs of the micro-batch it is running."""

    def __init__(self, stage_modules: list[torch.nn.Module]):
        self.queues = [deque() for _ in stage_modules]
        self.handles = [m.register_forward_pre_hook(self._hook(q), with_kwargs=True)
                        for m, q in zip(stage_modules, self.queues)]

    def load(self, doc_ids: torch.Tensor, micro_rows: int, cp: tuple[CPShards, dist.ProcessGroup] | None = None) -> None:
        """Queue the micro-batches of the local batch ``doc_ids`` (full rows) for the next
        schedule step; ``cp`` is this rank's (layout, cp group) under context parallelism."""
        rows = [doc_ids[i : i + micro_rows] for i in range(0, doc_ids.shape[0], micro_rows)]
        chunks = [packed_inputs(r, pipelined=True) if cp is None else cp_stage_inputs(*cp, r) for r in rows]
        for queue in self.queues:
            queue.clear()
            queue.extend(chunks)

    @staticmethod
    def _hook(queue: deque):
        def hook(module, args, kwargs):
            if not queue:
                raise RuntimeError("pipeline stage ran more micro-batches than were queued")
            return args, {**kwargs, **queue.popleft()}

        return hook
