"""Step 1 of a round: the reward model on every round's preference data (RECIPE.md
section 5), its variants averaged, measured on held-out preference rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from herd.core.posttrain_summary import RewardModelSummary
from herd.lib.chat.format import ChatFormat
from herd.plugins.posttrain.averaging import averaged
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.reward import (
    RewardData,
    RewardScorer,
    RewardStats,
    pairwise_accuracy,
    reward_model_from_causal,
    reward_pairs,
    split_heldout,
    train_reward_model,
)
from herd.plugins.posttrain.round_state import RoundState, RunInputs


@dataclass
class RewardOutcome:
    scorer: RewardScorer
    summary: RewardModelSummary
    pairs: int  # ranked pairs in the training and held-out data


def train_reward_variant(model_dir: Path, chat: ChatFormat, data: RewardData, cfg: PosttrainConfig, max_len: int,
                         seed: int) -> tuple[dict[str, torch.Tensor], RewardStats]:
    """One reward-model variant from the policy in ``model_dir``: its weights and stats."""
    model = reward_model_from_causal(model_dir, seed=seed)
    stats = train_reward_model(model, chat, data, lr=cfg.rm_lr, epochs=cfg.rm_epochs, batch_rows=cfg.rm_batch_rows,
                               max_len=max_len, seed=seed)
    return model.state_dict(), stats


def reward_step(run: RunInputs, state: RoundState) -> RewardOutcome:
    cfg, r = run.cfg, state.round_no
    data = reward_pairs(state.pool, cfg.rm_similarity)
    for reason, n in data.dropped.items():
        for _ in range(n):
            state.ledger.drop("reward_model", "-", reason)
    train, heldout = split_heldout(data, cfg.rm_heldout_fraction)
    max_len = run.lengths.largest(data.rows)
    seeds = [run.seed(r, f"reward_model/{s}") for s in cfg.rm_seeds]
    # The untrained head (the first variant's start) is what "round 0" means for the RM.
    rm = reward_model_from_causal(state.model_dir, seed=seeds[0])
    untrained = pairwise_accuracy(rm, run.chat, heldout, max_len)
    states, stats = [], []
    for seed in seeds:
        weights, variant = train_reward_variant(state.model_dir, run.chat, train, cfg, max_len, seed)
        states.append(weights)
        stats.append(variant)
    rm = averaged(rm, states)
    rm.save_pretrained(str(state.round_dir / "reward_model"))
    summary = RewardModelSummary(
        variants=len(stats),
        loss_first=stats[0].loss[0] if stats[0].loss else None,
        loss_last=[s.loss[-1] for s in stats if s.loss],
        accuracy=[s.accuracy for s in stats],
        margin=[s.margin for s in stats],
        heldout_pairs=sum(len(p) for p in heldout.pairs),
        heldout_accuracy=pairwise_accuracy(rm, run.chat, heldout, max_len),
        heldout_accuracy_untrained=untrained,
    )
    # Rollouts may be longer than any preference row: score them whole, up to the context.
    scorer = RewardScorer(rm, run.chat, run.lengths.context)
    return RewardOutcome(scorer, summary, sum(len(p) for p in data.pairs))
