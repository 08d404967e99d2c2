"""The post-training losses (docs/recipe.md section 5): SFT cross-entropy on assistant tokens,
DPO with the recipe's two changes, and the reward model's Bradley-Terry loss.

Conventions follow TRL so that the maths can be compared term by term (see
``tests/lib/posttraining/test_losses_trl_parity.py``):

* a sequence's log-probability is the *sum* of its response tokens' log-probabilities;
* a DPO batch holds the chosen sequences first and the rejected ones second;
* the NLL term on the chosen responses is the mean over all chosen response tokens of
  the batch (TRL's ``loss_type=["sigmoid", "sft"]``, ``loss_weights=[1, alpha]``, which
  replaced its ``rpo_alpha``), and it keeps the formatting tokens, so the model still
  learns to end its turn;
* the reward loss is ``-logsigmoid(r_better - r_worse)`` averaged over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F


def token_logps(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """Log-probability of each next token: ``[B, T-1]`` for logits ``[B, T, V]``.

    ``gather - logsumexp`` gives the same numbers as ``log_softmax`` then ``gather``
    without writing a second ``[B, T, V]`` tensor.
    """
    logits = logits[:, :-1].float()
    targets = input_ids[:, 1:].unsqueeze(-1)
    return logits.gather(-1, targets).squeeze(-1) - torch.logsumexp(logits, dim=-1)


# ----- SFT --------------------------------------------------------------------------------


def sft_loss(logits: torch.Tensor, input_ids: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the tokens with ``loss_mask`` (assistant tokens only).
    ``loss_mask[b, t]`` says whether token ``t`` is a target."""
    count = loss_mask[:, 1:].sum()
    if count == 0:
        raise ValueError("SFT batch has no assistant tokens to train on")
    return sft_loss_sum(logits, input_ids, loss_mask) / count


def sft_loss_sum(logits: torch.Tensor, input_ids: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy over the target tokens (a data-parallel rank's share of a
    batch; divided by the batch's global target count it is ``sft_loss``)."""
    return -(token_logps(logits, input_ids) * loss_mask[:, 1:].to(torch.float32)).sum()


# ----- DPO --------------------------------------------------------------------------------


@dataclass
class DPOTerms:
    """One DPO batch's loss and the numbers a round reports."""

    loss: torch.Tensor  # what to back-propagate: mean DPO loss + nll_coef * NLL
    dpo: torch.Tensor  # mean sigmoid DPO loss
    nll: torch.Tensor  # NLL on chosen responses (mean per token)
    chosen_rewards: torch.Tensor  # beta * (log pi - log ref) on chosen, per pair
    rejected_rewards: torch.Tensor

    @property
    def margins(self) -> torch.Tensor:
        return self.chosen_rewards - self.rejected_rewards

    @property
    def accuracy(self) -> float:
        return float((self.chosen_rewards > self.rejected_rewards).float().mean())


def sequence_logps(per_token: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum of ``per_token [B, T-1]`` over the target positions ``mask [B, T]``."""
    return (per_token * mask[:, 1:].to(per_token.dtype)).sum(dim=1)


def dpo_mask(response_mask: torch.Tensor, special_mask: torch.Tensor, mask_special: bool) -> torch.Tensor:
    """The tokens whose log-probabilities enter DPO: the responses, minus the formatting
    tokens when ``mask_special`` (the recipe's change (1))."""
    if not mask_special:
        return response_mask
    return response_mask & ~special_mask


def dpo_terms(
    policy_per_token: torch.Tensor,
    ref_logps: torch.Tensor,
    response_mask: torch.Tensor,
    special_mask: torch.Tensor,
    *,
    beta: float = 0.1,
    nll_coef: float = 0.2,
    mask_special: bool = True,
) -> DPOTerms:
    """DPO sigmoid loss plus ``nll_coef`` times the chosen responses' NLL.

    ``policy_per_token`` is ``token_logps`` of the ``[2B, T]`` batch (chosen then rejected);
    ``ref_logps`` the reference model's summed log-probabilities ``[2B]`` under the same
    mask (``reference_logps``).
    """
    mask = dpo_mask(response_mask, special_mask, mask_special)
    logps = sequence_logps(policy_per_token, mask)
    chosen, rejected = logps.chunk(2)
    ref_chosen, ref_rejected = ref_logps.chunk(2)
    chosen_tokens, _ = policy_per_token.chunk(2)
    chosen_mask, _ = response_mask[:, 1:].chunk(2)
    nll = -chosen_tokens[chosen_mask.bool()].mean()
    return combine_dpo(chosen, rejected, ref_chosen, ref_rejected, nll, beta=beta, nll_coef=nll_coef)


def combine_dpo(
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    nll: torch.Tensor,
    *,
    beta: float,
    nll_coef: float,
) -> DPOTerms:
    """The DPO sigmoid loss from summed log-probabilities, plus ``nll_coef * nll``."""
    chosen_ratio = chosen - ref_chosen
    rejected_ratio = rejected - ref_rejected
    dpo = -F.logsigmoid(beta * (chosen_ratio - rejected_ratio)).mean()
    return DPOTerms(
        loss=dpo + nll_coef * nll,
        dpo=dpo,
        nll=nll,
        chosen_rewards=beta * chosen_ratio.detach(),
        rejected_rewards=beta * rejected_ratio.detach(),
    )


@torch.no_grad()
def reference_logps(
    ref_logits: torch.Tensor,
    input_ids: torch.Tensor,
    response_mask: torch.Tensor,
    special_mask: torch.Tensor,
    mask_special: bool = True,
) -> torch.Tensor:
    mask = dpo_mask(response_mask, special_mask, mask_special)
    return sequence_logps(token_logps(ref_logits, input_ids), mask)


# ----- reward model -----------------------------------------------------------------------


def ranked_pairs(n: int) -> list[tuple[int, int]]:
    """Every ordered pair ``(better, worse)`` of a ranking of ``n`` responses, best first."""
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def bradley_terry_loss(
    scores: Sequence[torch.Tensor], keep: Sequence[Sequence[tuple[int, int]]] | None = None
) -> torch.Tensor:
    """Mean ``-logsigmoid(s_better - s_worse)`` over every ordered pair of every row.

    ``scores[r]`` holds row ``r``'s response scores, best first; ``keep[r]`` restricts the
    pairs (after near-identical pairs are dropped). The recipe drops Llama 2's margin term
    (Llama 3 paper, section 4.1.2), so there is none here.
    """
    better, worse = [], []
    for r, row in enumerate(scores):
        pairs = keep[r] if keep is not None else ranked_pairs(len(row))
        for i, j in pairs:
            better.append(row[i])
            worse.append(row[j])
    if not better:
        raise ValueError("no preference pairs to train the reward model on")
    return -F.logsigmoid(torch.stack(better) - torch.stack(worse)).mean()


def gathered_token_logps(
    hidden: torch.Tensor, lm_head: torch.nn.Module, pred_index: torch.Tensor, target_ids: torch.Tensor
) -> torch.Tensor:
    """Log-probabilities of ``target_ids [B, K]`` predicted from ``hidden[b, pred_index[b, k]]``.
    The LM head runs on those positions only, never on the prompt."""
    picked = hidden.gather(1, pred_index[..., None].expand(-1, -1, hidden.shape[-1]))
    logits = lm_head(picked).float()
    return logits.gather(-1, target_ids[..., None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)


def shared_pair_sums(per_token: torch.Tensor, batch, mask_special: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probabilities of each row's chosen and rejected response."""
    keep = ~batch.special if mask_special else torch.ones_like(batch.special)
    chosen = (per_token * (batch.chosen & keep)).sum(1)
    rejected = (per_token * (batch.rejected & keep)).sum(1)
    return chosen, rejected
