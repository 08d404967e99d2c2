"""Attention over packed documents without the work that the document mask throws away.

A packed row holds several documents, and a token may only attend to earlier tokens of
its own document (docs/recipe.md section 2). Expressed as a boolean mask, that is one
``seq x seq`` attention per row in which every block outside the documents' diagonal
blocks is computed and then discarded: on a CPU, SDPA with a mask does the full square
(measured: twice the work of plain causal attention at 2,048 tokens).

``PackedDocuments.plan(doc_ids, ...)`` instead cuts every row at document boundaries into
pieces, runs causal attention on each long document alone and masked attention on short
neighbours merged into pieces of up to ``PIECE`` tokens. Pieces are grouped by length
and right-padded into batches, one SDPA call per group: causal attention never lets a
real token see the padding after it, so the padding changes nothing, and a row of
hundreds of short documents costs a couple of calls, not hundreds. The planner compares
the estimated cost of that with the masked square and returns ``None`` when the mask is
cheaper, so the caller falls back to it (rows no longer than a piece).

Only the layout is planned here (index tensors, computed once per forward and shared by
every layer); the maths is SDPA's, so results equal the masked attention up to float
rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

# Costs below are in attention-score elements of one head. SDPA's CPU kernel works in key
# blocks of 512 (smaller rows are one block): causal attention skips the blocks above the
# diagonal only past that size, and a mask skips nothing.
KEY_BLOCK = 512
# The fixed cost of one SDPA call with the gathers around it, in score elements of a
# 256-wide model (~0.5 ms against ~1e-4 ms per element, forward and backward, measured
# with one thread on the CI-class CPU); wider models make an element dearer.
CALL_COST_AT_WIDTH_256 = 10_000
# Consecutive documents shorter than this share one masked piece: tiny documents each
# alone would cost a kernel tile apiece, and below one key block the square is paid anyway.
PIECE = 256


def kernel_cost(length: int, causal: bool) -> float:
    """Score elements SDPA computes for one row of ``length`` tokens."""
    if not causal or length <= KEY_BLOCK:
        return float(length * length)
    return length * (length / 2 + KEY_BLOCK / 2)


@dataclass(frozen=True)
class PackedDocuments:
    """How to run the documents of a packed batch as padded groups.

    A row is cut at document boundaries into pieces: a document longer than ``PIECE``
    alone, shorter neighbours together. ``gather`` lists, group after group, the flat
    token index (``row * seq + position``) of every padded slot (padding repeats a
    token of its own piece: never attended to, its output never read); ``groups`` holds
    each group's ``(pieces, length)`` and ``masks`` its boolean attention mask, or None
    where every piece is one document and plain causal attention is exact; ``scatter``
    maps every flat token back to its slot in the concatenated output."""

    gather: torch.Tensor
    scatter: torch.Tensor
    groups: tuple[tuple[int, int], ...]
    masks: tuple[torch.Tensor | None, ...]

    @classmethod
    def plan(cls, doc_ids: torch.Tensor, width: int) -> "PackedDocuments | None":
        """The plan for ``doc_ids`` (batch, seq), or None when one masked attention over
        each full row is estimated to cost less. ``width`` is the model's width (query
        heads times head dimension)."""
        ids = doc_ids.detach().cpu().numpy()
        b, t = ids.shape
        change = np.empty((b, t), dtype=bool)
        change[:, 1:] = ids[:, 1:] != ids[:, :-1]
        change[:, 0] = True  # a row's start opens a document even when it continues the last row's
        starts = np.flatnonzero(change.reshape(-1))
        lengths = np.diff(np.append(starts, b * t))
        call = CALL_COST_AT_WIDTH_256 * 256 / max(width, 1)
        pieces = _pieces(starts, lengths, t)
        long = [p for p in pieces if len(p) == 1 and p[0][1] > PIECE]
        short = [p for p in pieces if not (len(p) == 1 and p[0][1] > PIECE)]
        groups, masks, members = [], [], []
        for n, length, docs in _group_long([p[0] for p in long], call):
            groups.append((n, length))
            masks.append(None)
            members.append([[d] for d in docs])
        if short:
            length = max(sum(n for _, n in p) for p in short)
            groups.append((len(short), length))
            masks.append(_piece_mask(short, length) if any(len(p) > 1 for p in short) else None)
            members.append(short)
        cost = sum(n * kernel_cost(length, m is None) + call for (n, length), m in zip(groups, masks))
        if cost >= b * kernel_cost(t, causal=False) + call:
            return None
        gather, scatter, slot = [], np.empty(b * t, dtype=np.int64), 0
        for (n, length), group in zip(groups, members):
            for piece in group:
                start = piece[0][0]
                own = sum(k for _, k in piece)
                index = np.full(length, start, dtype=np.int64)
                index[:own] = np.arange(start, start + own)
                gather.append(index)
                scatter[start : start + own] = np.arange(slot, slot + own)
                slot += length
        device = doc_ids.device
        return cls(torch.from_numpy(np.concatenate(gather)).to(device), torch.from_numpy(scatter).to(device),
                   tuple(groups), tuple(m.to(device) if m is not None else None for m in masks))

    def attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Causal attention within each document. ``q``: (batch, seq, heads, head_dim);
        ``k``, ``v``: (batch, seq, kv_heads, head_dim). Returns (batch, seq, heads, head_dim)."""
        b, t, heads, d = q.shape
        gqa = heads != k.shape[2]
        flat = [x.reshape(b * t, x.shape[2], d).index_select(0, self.gather) for x in (q, k, v)]
        outs, at = [], 0
        for (n, length), mask in zip(self.groups, self.masks):
            span = slice(at, at + n * length)
            qg, kg, vg = (x[span].view(n, length, -1, d).transpose(1, 2) for x in flat)
            y = F.scaled_dot_product_attention(qg, kg, vg, attn_mask=mask, is_causal=mask is None, enable_gqa=gqa)
            outs.append(y.transpose(1, 2).reshape(n * length, heads, d))
            at += n * length
        y = outs[0] if len(outs) == 1 else torch.cat(outs)
        return y.index_select(0, self.scatter).view(b, t, heads, d)


Doc = tuple[int, int]  # (flat start, length)


def _pieces(starts: np.ndarray, lengths: np.ndarray, t: int) -> list[list[Doc]]:
    """Each row's documents, consecutive short ones merged up to ``PIECE`` tokens."""
    pieces: list[list[Doc]] = []
    current: list[Doc] = []
    size = 0
    for start, length in zip(starts.tolist(), lengths.tolist()):
        new_row = start % t == 0
        if current and (new_row or size + length > PIECE):
            pieces.append(current)
            current, size = [], 0
        current.append((start, length))
        size += length
    if current:
        pieces.append(current)
    return pieces


def _group_long(docs: list[Doc], call: float) -> list[tuple[int, int, list[Doc]]]:
    """Long documents, longest first, each joining the current group (padded to its
    length) when that costs less than a call of its own."""
    groups: list[tuple[int, int, list[Doc]]] = []
    for doc in sorted(docs, key=lambda d: -d[1]):
        if groups and kernel_cost(groups[-1][1], True) <= kernel_cost(doc[1], True) + call:
            n, length, members = groups[-1]
            groups[-1] = (n + 1, length, [*members, doc])
        else:
            groups.append((1, doc[1], [doc]))
    return groups


def _piece_mask(pieces: list[list[Doc]], length: int) -> torch.Tensor:
    """(pieces, 1, length, length): causal within each document of each piece; a padding
    slot sees only itself (a query with no key at all would make softmax NaN)."""
    ids = np.empty((len(pieces), length), dtype=np.int64)
    for i, piece in enumerate(pieces):
        ids[i] = -1 - np.arange(length)  # padding: an id of its own
        at = 0
        for j, (_, n) in enumerate(piece):
            ids[i, at : at + n] = j
            at += n
    doc = torch.from_numpy(ids)
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    return ((doc[:, :, None] == doc[:, None, :]) & causal).unsqueeze(1)
