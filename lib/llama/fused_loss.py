"""Next-token cross-entropy fused with the LM head, for training.

``linear_cross_entropy(hidden, weight, labels)`` equals
``F.cross_entropy(hidden @ weight.T, labels, ignore_index=-100, reduction="sum")`` but
works through the rows in chunks: per chunk it computes the logits, one softmax, the loss
and at once the gradients for ``hidden`` and ``weight`` (``softmax - onehot``), so the
full ``(tokens, vocab)`` logits and their log-softmax are never held, and the backward
pass only scales the stored gradients. This is what Liger-Kernel and torchtune do on GPUs;
on a CPU it saves one exponential pass over the logits and the allocation of two
``tokens x vocab`` buffers per step. The matrix products are the same as unfused.
"""

from __future__ import annotations

import torch

IGNORE = -100


def _chunk_rows(vocab: int) -> int:
    # ~4 MB of float32 logits per chunk: stays in cache, keeps the GEMMs large.
    return max(64, (1 << 20) // max(vocab, 1))


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, labels, with_grad: bool):
        n = hidden.shape[0]
        step = _chunk_rows(weight.shape[0])
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        grad_h = torch.empty_like(hidden) if with_grad and ctx.needs_input_grad[0] else None
        grad_w = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) \
            if with_grad and ctx.needs_input_grad[1] else None
        for lo in range(0, n, step):
            h, y = hidden[lo : lo + step], labels[lo : lo + step]
            logits = (h @ weight.t()).float()
            valid = y != IGNORE
            target = torch.where(valid, y, 0)
            picked = logits.gather(1, target[:, None]).squeeze(1)
            top = logits.amax(dim=-1, keepdim=True)
            probs = logits.sub_(top).exp_()  # in place: the logits are not needed again
            norm = probs.sum(dim=-1, keepdim=True)
            lse = (norm.log() + top).squeeze(1)
            total += torch.where(valid, lse - picked, 0.0).sum()
            if grad_h is None and grad_w is None:
                continue
            probs.div_(norm)
            probs.scatter_add_(1, target[:, None], -valid[:, None].to(probs.dtype))
            probs.mul_(valid[:, None])
            g = probs.to(hidden.dtype)
            if grad_h is not None:
                grad_h[lo : lo + step] = g @ weight
            if grad_w is not None:
                grad_w.addmm_(g.t().float(), h.float())
        ctx.save_for_backward(grad_h, grad_w.to(weight.dtype) if grad_w is not None else None)
        return total

    @staticmethod
    def backward(ctx, grad_out):
        grad_h, grad_w = ctx.saved_tensors
        return (None if grad_h is None else grad_h * grad_out.to(grad_h.dtype),
                None if grad_w is None else grad_w * grad_out.to(grad_w.dtype), None, None)


def linear_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of ``hidden @ weight.T`` (``(tokens, dim)``, ``(vocab, dim)``)
    against ``labels`` (``(tokens,)``, -100 = ignored); differentiable in both tensors."""
    with_grad = torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad)
    return _LinearCrossEntropy.apply(hidden, weight, labels, with_grad)
