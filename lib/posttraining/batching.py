"""Turning encoded chats into tensors: padded preference pairs for DPO, packed SFT
sequences with per-sequence attention, and the reward model's one-sequence-per-prompt
layout with each response masked from the others.

Packed layouts are expressed as an additive 4-D attention mask ``[B, 1, T, T]`` (0 where
a query may look, ``-inf`` elsewhere) plus ``position_ids`` that restart per segment, which
Hugging Face Llama models accept as they are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from herd.lib.chat.format import Encoded


@dataclass
class PairBatch:
    """``2B`` rows: the B chosen sequences, then the B rejected ones (TRL's layout)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    response_mask: torch.Tensor  # bool: response tokens (what DPO scores)
    special_mask: torch.Tensor  # bool: formatting tokens (headers, end of turn)


def _pad(rows: list[list], value, dtype) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=dtype)


def collate_pairs(
    triples: list[tuple[Encoded, Encoded, Encoded]], pad_id: int, max_len: int | None = None
) -> PairBatch:
    """``triples`` of (prompt, chosen response, rejected response) encodings."""
    seqs: list[Encoded] = [p + c for p, c, _ in triples] + [p + r for p, _, r in triples]
    prompt_lens = [len(p) for p, _, _ in triples] * 2
    ids, att, resp, spec = [], [], [], []
    for seq, plen in zip(seqs, prompt_lens):
        n = len(seq) if max_len is None else min(len(seq), max_len)
        ids.append(seq.ids[:n])
        att.append([1] * n)
        resp.append([i >= plen for i in range(n)])
        spec.append(seq.special[:n])
    return PairBatch(
        input_ids=_pad(ids, pad_id, torch.long),
        attention_mask=_pad(att, 0, torch.long),
        response_mask=_pad(resp, False, torch.bool),
        special_mask=_pad(spec, False, torch.bool),
    )


def block_mask(segments: list[list[int]], dtype=torch.float32) -> torch.Tensor:
    """Additive causal masks ``[B, 1, T, T]`` from per-token segment ids: a token sees the
    earlier tokens of its own segment only; padding (segment -1) sees only itself."""
    width = max(len(s) for s in segments)
    seg = torch.full((len(segments), width), -1, dtype=torch.long)
    for b, s in enumerate(segments):
        seg[b, : len(s)] = torch.tensor(s, dtype=torch.long)
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    same = seg[:, :, None] == seg[:, None, :]
    allowed = causal & same
    allowed |= torch.eye(width, dtype=torch.bool)  # padding rows attend to themselves
    return _additive(allowed, dtype)


def _additive(allowed: torch.Tensor, dtype) -> torch.Tensor:
    mask = torch.zeros(allowed.shape, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None]


# ----- SFT packing -------------------------------------------------------------------------


@dataclass
class PackedBatch:
    input_ids: torch.Tensor  # [B, T]
    doc_ids: torch.Tensor  # which packed sequence each token belongs to (padding: -1)
    position_ids: torch.Tensor  # restart at 0 for every packed sequence
    attention_mask: torch.Tensor  # additive [B, 1, T, T]: no attention across sequences
    loss_mask: torch.Tensor  # bool [B, T]: assistant tokens


def pack(encoded: list[Encoded], max_len: int, pad_id: int) -> list[PackedBatch]:
    """Greedy first-fit packing of dialogs into rows of at most ``max_len`` tokens, one
    ``PackedBatch`` row each. Dialogs longer than ``max_len`` are truncated."""
    bins: list[list[Encoded]] = []
    room: list[int] = []
    for enc in sorted(encoded, key=len, reverse=True):
        n = min(len(enc), max_len)
        for b, free in enumerate(room):
            if free >= n:
                bins[b].append(enc)
                room[b] -= n
                break
        else:
            bins.append([enc])
            room.append(max_len - n)
    return [_packed_row(b, max_len, pad_id) for b in bins]


def _packed_row(items: list[Encoded], max_len: int, pad_id: int) -> PackedBatch:
    ids, pos, seg, loss = [], [], [], []
    for k, enc in enumerate(items):
        n = min(len(enc), max_len)
        ids += enc.ids[:n]
        pos += list(range(n))
        seg += [k] * n
        loss += enc.loss[:n]
    return PackedBatch(
        input_ids=torch.tensor([ids], dtype=torch.long),
        doc_ids=torch.tensor([seg], dtype=torch.long),
        position_ids=torch.tensor([pos], dtype=torch.long),
        attention_mask=block_mask([seg]),
        loss_mask=torch.tensor([loss], dtype=torch.bool),
    )


def stack_packed(rows: list[PackedBatch], pad_id: int) -> PackedBatch:
    """Pad packed rows to one width and stack them into a batch."""
    width = max(r.input_ids.shape[1] for r in rows)
    ids, docs, pos, loss, segs = [], [], [], [], []
    for r in rows:
        n = r.input_ids.shape[1]
        extra = width - n
        ids.append(torch.nn.functional.pad(r.input_ids[0], (0, extra), value=pad_id))
        docs.append(torch.nn.functional.pad(r.doc_ids[0], (0, extra), value=-1))
        pos.append(torch.nn.functional.pad(r.position_ids[0], (0, extra), value=0))
        loss.append(torch.nn.functional.pad(r.loss_mask[0], (0, extra), value=False))
        allowed = r.attention_mask[0, 0] == 0
        full = torch.eye(width, dtype=torch.bool)
        full[:n, :n] = allowed
        segs.append(full)
    return PackedBatch(
        input_ids=torch.stack(ids),
        doc_ids=torch.stack(docs),
        position_ids=torch.stack(pos),
        attention_mask=_additive(torch.stack(segs), torch.float32),
        loss_mask=torch.stack(loss),
    )


# ----- reward model: one sequence per prompt ------------------------------------------------


@dataclass
class MultiResponse:
    """A prompt and several responses in one sequence (docs/recipe.md section 5, reward model).

    Every response attends to the prompt and to itself only; its positions continue from
    the prompt's end, so each response is seen exactly as in its own sequence.
    ``score_index[r]`` is where response ``r`` (in the caller's order) ends: its
    end-of-turn token, whose hidden state is scored.
    """

    input_ids: torch.Tensor  # [1, T]
    position_ids: torch.Tensor
    attention_mask: torch.Tensor  # additive [1, 1, T, T]
    score_index: list[int]
    order: list[int]  # the shuffled order responses were laid out in


def multi_response(
    prompt: Encoded, responses: list[Encoded], rng: random.Random | None = None
) -> MultiResponse:
    order = list(range(len(responses)))
    if rng is not None:
        rng.shuffle(order)  # the recipe shuffles responses so position says nothing of rank
    ids = list(prompt.ids)
    pos = list(range(len(prompt)))
    seg = [0] * len(prompt)
    ends = [0] * len(responses)
    for k, r in enumerate(order):
        resp = responses[r]
        ids += resp.ids
        pos += list(range(len(prompt), len(prompt) + len(resp)))
        seg += [k + 1] * len(resp)
        ends[r] = len(ids) - 1
    seg_t = torch.tensor(seg)
    width = len(ids)
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    allowed = causal & ((seg_t[:, None] == seg_t[None, :]) | (seg_t[None, :] == 0))
    return MultiResponse(
        input_ids=torch.tensor([ids], dtype=torch.long),
        position_ids=torch.tensor([pos], dtype=torch.long),
        attention_mask=_additive(allowed[None], torch.float32),
        score_index=ends,
        order=order,
    )


# ----- DPO: one row per pair, the prompt computed once ---------------------------------------


@dataclass
class SharedPairBatch:
    """Each row holds ``prompt | chosen | rejected``: both responses attend to the prompt
    and to themselves only, and their positions both continue from the prompt's end, so
    every token sees exactly what it would in its own sequence while the prompt (and the
    padding a ``[chosen; rejected]`` batch needs) is computed once instead of twice.

    Targets are listed per row: ``target_ids[b, k]`` is predicted from the hidden state at
    ``pred_index[b, k]`` (the previous token, or the prompt's last token for the first
    token of each response).
    """

    input_ids: torch.Tensor  # [B, L]
    position_ids: torch.Tensor  # [B, L]
    allowed: torch.Tensor  # bool [B, 1, L, L]: True where a query may attend
    pred_index: torch.Tensor  # [B, K]
    target_ids: torch.Tensor  # [B, K]
    chosen: torch.Tensor  # bool [B, K]: the target belongs to the chosen response
    rejected: torch.Tensor  # bool [B, K]
    special: torch.Tensor  # bool [B, K]: the target is a formatting token


def collate_shared_pairs(
    triples: list[tuple[Encoded, Encoded, Encoded]], pad_id: int, max_len: int | None = None
) -> SharedPairBatch:
    rows = []
    for prompt, chosen, rejected in triples:
        p = len(prompt)
        room = len(chosen) + len(rejected) if max_len is None else max(0, max_len - p)
        c, r = chosen.ids[:room], rejected.ids[:room]
        ids = prompt.ids + c + r
        pos = list(range(p)) + list(range(p, p + len(c))) + list(range(p, p + len(r)))
        seg = [0] * p + [1] * len(c) + [2] * len(r)
        pred = [p - 1] + list(range(p, p + len(c) - 1)) + [p - 1] + list(range(p + len(c), p + len(c) + len(r) - 1))
        targets = c + r
        special = chosen.special[: len(c)] + rejected.special[: len(r)]
        which = [1] * len(c) + [2] * len(r)
        rows.append((ids, pos, seg, pred, targets, special, which))
    width = max(len(x[0]) for x in rows)
    k = max(len(x[4]) for x in rows)
    b = len(rows)
    input_ids = torch.full((b, width), pad_id, dtype=torch.long)
    position_ids = torch.zeros((b, width), dtype=torch.long)
    segs = torch.full((b, width), -1, dtype=torch.long)
    pred_index = torch.zeros((b, k), dtype=torch.long)
    target_ids = torch.zeros((b, k), dtype=torch.long)
    which_t = torch.zeros((b, k), dtype=torch.long)
    special_t = torch.zeros((b, k), dtype=torch.bool)
    for i, (ids, pos, seg, pred, targets, special, which) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        position_ids[i, : len(pos)] = torch.tensor(pos)
        segs[i, : len(seg)] = torch.tensor(seg)
        pred_index[i, : len(pred)] = torch.tensor(pred)
        target_ids[i, : len(targets)] = torch.tensor(targets)
        which_t[i, : len(which)] = torch.tensor(which)
        special_t[i, : len(special)] = torch.tensor(special, dtype=torch.bool)
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    q, kk = segs[:, :, None], segs[:, None, :]
    allowed = causal & ((q == kk) | ((kk == 0) & (q > 0)))
    allowed |= torch.eye(width, dtype=torch.bool)  # padding attends to itself
    return SharedPairBatch(
        input_ids=input_ids,
        position_ids=position_ids,
        allowed=allowed[:, None],
        pred_index=pred_index,
        target_ids=target_ids,
        chosen=which_t == 1,
        rejected=which_t == 2,
        special=special_t,
    )
