"""DPO training (docs/recipe.md section 5): sigmoid loss with beta 0.1, the formatting tokens
masked out of the chosen and rejected log-probabilities, NLL on the chosen response with
coefficient 0.2, and a frozen reference model.

The reference is frozen, so its log-probabilities are computed once per pair before
training instead of at every step; each step then needs one policy forward and backward
over the ``[chosen; rejected]`` batch.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Sequence

import torch

from herd.core.records import ChatMessage, PreferenceRow
from herd.lib.posttraining.batching import PairBatch, SharedPairBatch, collate_shared_pairs
from herd.lib.chat.format import ChatFormat, Encoded
from herd.lib.posttraining.losses import (
    DPOTerms,
    combine_dpo,
    dpo_terms,
    gathered_token_logps,
    shared_pair_sums,
    token_logps,
)
from herd.lib.posttraining.models import lm_logits, masked_hidden_states, masked_logits
from herd.lib.posttraining.parallel import SINGLE, DataParallel, clip_and_step
from herd.lib.training.step_log import JobSteps


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


def shared_token_logps(model, batch: SharedPairBatch, through_forward: bool = False) -> torch.Tensor:
    """Per-target log-probabilities of a shared-prompt batch. ``through_forward`` runs the
    model's own forward (full logits, then gathered): what a wrapped model (FSDP2) needs,
    since calling its sub-modules one by one would skip the wrapper's hooks."""
    if through_forward:
        logits = masked_logits(model, batch.input_ids, batch.position_ids, batch.allowed)
        picked = logits.gather(1, batch.pred_index[..., None].expand(-1, -1, logits.shape[-1])).float()
        return picked.gather(-1, batch.target_ids[..., None]).squeeze(-1) - torch.logsumexp(picked, dim=-1)
    hidden, head = masked_hidden_states(model, batch.input_ids, batch.position_ids, batch.allowed)
    return gathered_token_logps(hidden, head, batch.pred_index, batch.target_ids)


@torch.no_grad()
def shared_reference_logps(reference, batch: SharedPairBatch, mask_special: bool,
                           through_forward: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    return shared_pair_sums(shared_token_logps(reference, batch, through_forward), batch, mask_special)


def shared_dpo_step(policy, batch: SharedPairBatch, ref: tuple[torch.Tensor, torch.Tensor], settings: DPOSettings) -> DPOTerms:
    """The same loss as ``dpo_step`` on the one-row-per-pair layout (what training uses)."""
    per_token = shared_token_logps(policy, batch)
    chosen, rejected = shared_pair_sums(per_token, batch, settings.mask_special)
    nll = -per_token[batch.chosen].mean()
    return combine_dpo(chosen, rejected, ref[0], ref[1], nll, beta=settings.beta, nll_coef=settings.nll_coef)


def train_dpo(
    policy, reference, chat: ChatFormat, rows: Sequence[PreferenceRow], settings: DPOSettings, pad_id: int,
    dp: DataParallel = SINGLE, through_forward: bool = False, steps: JobSteps = JobSteps(None),
) -> DPOStats:
    """DPO over every ordered pair of ``rows``, ``settings.batch_pairs`` pairs per step over
    all ``dp`` ranks; the frozen reference's log-probabilities are computed once before the
    first step. Each step's loss is ``shared_dpo_step``'s on the whole batch: the DPO term
    averaged over its pairs, the NLL over its chosen tokens."""
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    triples = encode_pairs(chat, preference_pairs(rows))
    stats = DPOStats(pairs=len(triples))
    if not triples:
        return stats
    batches = []
    for i in range(0, len(triples), settings.batch_pairs):
        chunk = triples[i : i + settings.batch_pairs]
        mine, weight = dp.share(chunk)
        chosen_tokens = sum(min(len(c), max(0, settings.max_len - len(p))) for p, c, _ in chunk)
        batches.append((dp.put(collate_shared_pairs(mine, pad_id, settings.max_len)), weight, len(chunk), chosen_tokens,
                        sum(min(settings.max_len, len(p) + len(c) + len(r)) for p, c, r in chunk)))
    reference.eval()
    with dp.autocast():
        refs = [shared_reference_logps(reference, b, settings.mask_special, through_forward) for b, *_ in batches]
    params = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    policy.train()
    steps.start(settings.epochs * len(batches))
    for _ in range(settings.epochs):
        order = list(range(len(batches)))
        rng.shuffle(order)
        for b in order:
            t0 = time.perf_counter()
            batch, weight, n_pairs, n_chosen, n_tokens = batches[b]
            with dp.autocast():
                per_token = shared_token_logps(policy, batch, through_forward)
            chosen, rejected = shared_pair_sums(per_token.float(), batch, settings.mask_special)
            terms = combine_dpo(chosen, rejected, refs[b][0].float(), refs[b][1].float(),
                                -per_token.float()[batch.chosen].sum(), beta=settings.beta, nll_coef=0.0)
            dpo_sum = terms.dpo * batch.input_ids.shape[0] * weight  # combine_dpo's mean, back to a sum
            nll_sum = terms.nll * weight
            loss = dpo_sum / n_pairs + settings.nll_coef * nll_sum / max(1, n_chosen)
            optimizer.zero_grad(set_to_none=True)
            (loss * dp.loss_scale).backward()
            grad_norm = clip_and_step(params, optimizer, dp)
            sums = dp.all_sum(torch.stack([dpo_sum.detach(), nll_sum.detach(),
                                           terms.margins.sum() * weight,
                                           (terms.chosen_rewards > terms.rejected_rewards).float().sum() * weight]))
            dpo_mean, nll_mean = float(sums[0]) / n_pairs, float(sums[1]) / max(1, n_chosen)
            stats.loss.append(dpo_mean + settings.nll_coef * nll_mean)
            stats.nll.append(nll_mean)
            stats.margins.append(float(sums[2]) / n_pairs)
            stats.accuracy.append(float(sums[3]) / n_pairs)
            steps.step(stats.loss[-1], settings.lr, grad_norm, n_tokens, time.perf_counter() - t0)
    policy.eval()
    return stats
