"""Packed sequences (docs/recipe.md section 2) for the Hugging Face Llama: positions that restart
at every document and an attention mask that stops attention across documents, the same
inputs herd's own ``Llama`` derives from ``doc_ids``.

Under pipeline parallelism torch's schedule hands keyword inputs to the first stage only,
and NeMo AutoModel's stage forward rebuilds a plain causal mask on the others (cached by
shape). ``StageInputs`` puts the document positions and mask of every micro-batch on every
stage instead, through a forward pre-hook: a stage runs its micro-batches' forwards in
order, so the hook hands out the queued micro-batch inputs one by one."""

from __future__ import annotations

from collections import deque

import torch

from herd.lib.llama.model import document_mask, document_positions


def packed_inputs(doc_ids: torch.Tensor, pipelined: bool = False) -> dict[str, torch.Tensor | dict]:
    """Keyword inputs of ``LlamaForCausalLM`` for rows of packed documents: a 4-D boolean mask
    (True = attend), which transformers uses as is; a pipeline stage's forward (NeMo's) takes
    it as a mask mapping instead."""
    mask = document_mask(doc_ids)
    return {"position_ids": document_positions(doc_ids),
            "attention_mask": {"full_attention": mask} if pipelined else mask}


class StageInputs:
    """Feeds each pipeline stage the packed inputs of the micro-batch it is running."""

    def __init__(self, stage_modules: list[torch.nn.Module]):
        self.queues = [deque() for _ in stage_modules]
        self.handles = [m.register_forward_pre_hook(self._hook(q), with_kwargs=True)
                        for m, q in zip(stage_modules, self.queues)]

    def load(self, doc_ids: torch.Tensor, micro_rows: int) -> None:
        """Queue the micro-batches of the local batch ``doc_ids`` for the next schedule step."""
        chunks = [packed_inputs(doc_ids[i : i + micro_rows], pipelined=True) for i in range(0, doc_ids.shape[0], micro_rows)]
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
