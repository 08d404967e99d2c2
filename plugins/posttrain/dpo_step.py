"""Step 4 of a round: online DPO (RECIPE.md section 5). Pairs come from the newest (SFT)
policy's rollouts, best versus worst trajectory; the frozen SFT model is the reference;
variants are averaged into the round's model."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch

from herd.core.posttrain_summary import DPOSummary
from herd.core.records import PreferenceRow
from herd.lib.chat.format import ChatFormat
from herd.lib.chat.rows import turns_text
from herd.plugins.posttrain.averaging import averaged, mean
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.dpo import DPOSettings, DPOStats, train_dpo
from herd.plugins.posttrain.judging import Judged
from herd.plugins.posttrain.models import save_policy
from herd.plugins.posttrain.reward import near_identical
from herd.plugins.posttrain.round_state import Ledger, RoundState, RunInputs


def online_pairs(judged: list[Judged], ledger: Ledger, round_no: int, similarity: float) -> list[PreferenceRow]:
    """Best versus worst trajectory of each prompt, labelled by verifiers then the RM;
    each response is the trajectory's turns after the prompt."""
    pairs = []
    for j in judged:
        order = j.ranked()
        best, worst = order[0], order[-1]
        same_verdict = j.verdicts[best] == j.verdicts[worst]
        if best == worst or (same_verdict and j.rewards[best] <= j.rewards[worst]):
            ledger.drop("dpo_pairs", j.prompt.id, "no_preference_among_samples")
            continue
        chosen, rejected = j.trajectories[best], j.trajectories[worst]
        if near_identical(turns_text(chosen.turns), turns_text(rejected.turns), similarity):
            ledger.drop("dpo_pairs", j.prompt.id, "near_identical_samples")
            continue
        gap = j.rewards[best] - j.rewards[worst]
        margin = 3 if not same_verdict else min(3, int(gap))  # the 4-level scale from the RM gap
        pairs.append(
            PreferenceRow(
                id=f"{j.prompt.id}-dpo{round_no}",
                prompt=j.prompt.messages,
                responses=[chosen.turns, rejected.turns],
                margin=margin,
                capability=j.prompt.capability,
                round=round_no,
                metadata={**_synthesizer(j), "reward_gap": gap, "verdicts": [j.verdicts[best], j.verdicts[worst]],
                          "finish": [chosen.finish, rejected.finish]},
            )
        )
    return pairs


def _synthesizer(j: Judged) -> dict[str, str]:
    # The pair inherits its prompt's source, and so its length limit (lengths.py).
    name = j.prompt.metadata.get("synthesizer")
    return {"synthesizer": name} if name else {}


def dpo_settings(cfg: PosttrainConfig, max_len: int, seed: int) -> DPOSettings:
    return DPOSettings(beta=cfg.dpo_beta, nll_coef=cfg.dpo_nll_coef, mask_special=cfg.dpo_mask_special, lr=cfg.dpo_lr,
                       epochs=cfg.dpo_epochs, batch_pairs=cfg.dpo_batch_pairs, max_len=max_len, seed=seed)


def train_dpo_variant(reference: torch.nn.Module, chat: ChatFormat, pairs: list[PreferenceRow],
                      settings: DPOSettings, pad_id: int) -> tuple[dict[str, torch.Tensor], DPOStats]:
    """One DPO variant: a copy of ``reference`` (the SFT model, frozen) trained on
    ``pairs``; its weights and stats."""
    policy = copy.deepcopy(reference)
    stats = train_dpo(policy, reference, chat, pairs, settings, pad_id)
    return policy.state_dict(), stats


@dataclass
class DPOOutcome:
    model_dir: Path
    summary: DPOSummary


def dpo_step(run: RunInputs, state: RoundState, reference: torch.nn.Module, pairs: list[PreferenceRow]) -> DPOOutcome:
    cfg = run.cfg
    max_len = run.lengths.largest(pairs)
    states, stats = [], []
    for s in cfg.dpo_seeds:
        settings = dpo_settings(cfg, max_len, run.seed(state.round_no, f"dpo/{s}"))
        weights, variant = train_dpo_variant(reference, run.chat, pairs, settings, run.pad_id)
        states.append(weights)
        stats.append(variant)
    model_dir = save_policy(averaged(reference, states), run.tokenizer_dir, state.round_dir / "model")
    summary = DPOSummary(
        variants=len(stats),
        pairs=len(pairs),
        loss=[mean(s.loss) for s in stats],
        nll=[mean(s.nll) for s in stats],
        reward_margin=[mean(s.margins) for s in stats],
        reward_accuracy=[mean(s.accuracy) for s in stats],
    )
    return DPOOutcome(model_dir, summary)
