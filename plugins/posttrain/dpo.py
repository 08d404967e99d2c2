"""DPO training (RECIPE.md section 5): sigmoid loss with beta 0.1, the formatting tokens
masked out of the chosen and rejected log-probabilities, NLL on the chosen response with
coefficient 0.2, and a frozen reference model.

The reference is frozen, so its log-probabilities are computed once per pair before
training instead of at every step; each step then needs one policy forward and backward
over the ``[chosen; rejected]`` batch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Sequence

import torch

from herd.core.records import ChatMessage, PreferenceRow
from herd.plugins.posttrain.batching import PairBatch, SharedPairBatch, collate_shared_pairs
from herd.lib.chat.format import ChatFormat, Encoded
from herd.plugins.posttrain.losses import (
    DPOTerms,
    combine_dpo,
    dpo_terms,
    gathered_token_logps,
    shared_pair_sums,
    token_logps,
)
from herd.plugins.posttrain.models import lm_logits, masked_hidden_states


@dataclass
class DPOSettings:
    beta: float = 0.1
    nll_coef: float = 0.2
    mask_special: bool = True
    lr: float = 1e-5
    epochs: int = 1
    batch_pairs: int = 4
    max_len: int = 512
    seed: int = 0


@dataclass
class DPOStats:
    loss: list[float] = field(default_factory=list)
    nll: list[float] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    pairs: int = 0


def preference_pairs(
    rows: Sequence[PreferenceRow],
) -> list[tuple[PreferenceRow, list[ChatMessage], list[ChatMessage]]]:
    """DPO trains on (best, next) of each ranking and on every other ordered pair, so an
    edited > chosen > rejected row gives three pairs."""
    out = []
    for row in rows:
        n = len(row.responses)
        for i in range(n):
            for j in range(i + 1, n):
                out.append((row, row.responses[i], row.responses[j]))
    return out


def encode_pairs(chat: ChatFormat, pairs) -> list[tuple[Encoded, Encoded, Encoded]]:
    return [
        (chat.encode_prompt(row.prompt), chat.encode_turns(row.prompt, c), chat.encode_turns(row.prompt, r))
        for row, c, r in pairs
    ]


def dpo_step(policy, batch: PairBatch, ref: torch.Tensor, settings: DPOSettings) -> DPOTerms:
    logits = lm_logits(policy, batch.input_ids, batch.attention_mask)
    per_token = token_logps(logits, batch.input_ids)
    return dpo_terms(
        per_token,
        ref,
        batch.response_mask,
        batch.special_mask,
        beta=settings.beta,
        nll_coef=settings.nll_coef,
        mask_special=settings.mask_special,
    )


def shared_token_logps(model, batch: SharedPairBatch) -> torch.Tensor:
    hidden, head = masked_hidden_states(model, batch.input_ids, batch.position_ids, batch.allowed)
    return gathered_token_logps(hidden, head, batch.pred_index, batch.target_ids)


@torch.no_grad()
def shared_reference_logps(reference, batch: SharedPairBatch, mask_special: bool) -> tuple[torch.Tensor, torch.Tensor]:
    return shared_pair_sums(shared_token_logps(reference, batch), batch, mask_special)


def shared_dpo_step(policy, batch: SharedPairBatch, ref: tuple[torch.Tensor, torch.Tensor], settings: DPOSettings) -> DPOTerms:
    """The same loss as ``dpo_step`` on the one-row-per-pair layout (what training uses)."""
    per_token = shared_token_logps(policy, batch)
    chosen, rejected = shared_pair_sums(per_token, batch, settings.mask_special)
    nll = -per_token[batch.chosen].mean()
    return combine_dpo(chosen, rejected, ref[0], ref[1], nll, beta=settings.beta, nll_coef=settings.nll_coef)


def train_dpo(
    policy, reference, chat: ChatFormat, rows: Sequence[PreferenceRow], settings: DPOSettings, pad_id: int
) -> DPOStats:
    """DPO over every ordered pair of ``rows``; the frozen reference's log-probabilities are
    computed once before the first step."""
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    triples = encode_pairs(chat, preference_pairs(rows))
    stats = DPOStats(pairs=len(triples))
    if not triples:
        return stats
    batches = [
        collate_shared_pairs(triples[i : i + settings.batch_pairs], pad_id, settings.max_len)
        for i in range(0, len(triples), settings.batch_pairs)
    ]
    reference.eval()
    refs = [shared_reference_logps(reference, b, settings.mask_special) for b in batches]
    optimizer = torch.optim.AdamW(policy.parameters(), lr=settings.lr, weight_decay=0.0)
    policy.train()
    for _ in range(settings.epochs):
        order = list(range(len(batches)))
        rng.shuffle(order)
        for b in order:
            terms = shared_dpo_step(policy, batches[b], refs[b], settings)
            optimizer.zero_grad(set_to_none=True)
            terms.loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            optimizer.step()
            stats.loss.append(float(terms.loss.detach()))
            stats.nll.append(float(terms.nll.detach()))
            stats.margins.append(float(terms.margins.mean()))
            stats.accuracy.append(terms.accuracy)
    policy.eval()
    return stats
