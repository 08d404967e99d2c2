"""Step 1 of a round: the reward model on every round's preference data (docs/recipe.md
section 5), its variants averaged, measured on held-out preference rows."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from herd.core.atomic import umask_mode
from herd.core.posttrain_summary import RewardModelSummary
from herd.core.protocols import PostTrainResult, PostTrainSettings
from herd.plugins.posttrain.averaging import averaged
from herd.lib.posttraining.reward import RewardScorer, pairwise_accuracy, reward_model_from_causal, reward_pairs, split_heldout
from herd.plugins.posttrain.round_state import RoundState, RunInputs
from herd.plugins.posttrain.training_jobs import run_job


@dataclass
class RewardOutcome:
    scorer: RewardScorer
    summary: RewardModelSummary
    pairs: int  # ranked pairs in the training and held-out data


def train_reward_variant(run: RunInputs, state: RoundState, max_len: int, seed: int,
                         name: str) -> tuple[dict[str, torch.Tensor], PostTrainResult]:
    """One reward-model variant from the round's policy, as a trainer job on the whole
    preference pool (the job drops near-identical pairs and holds out the same rows this
    step does): its weights and stats."""
    from transformers import LlamaForSequenceClassification

    cfg = run.cfg
    settings = PostTrainSettings(lr=cfg.rm_lr, epochs=cfg.rm_epochs, batch_size=cfg.rm_batch_rows, max_len=max_len,
                                 seed=seed, similarity=cfg.rm_similarity, heldout_fraction=cfg.rm_heldout_fraction)
    result = run_job(run, "reward_model", state.model_dir, state.pool, state.round_dir / "jobs" / name, settings)
    return LlamaForSequenceClassification.from_pretrained(str(result.model_dir)).state_dict(), result


def reward_step(run: RunInputs, state: RoundState) -> RewardOutcome:
    cfg, r = run.cfg, state.round_no
    data = reward_pairs(state.pool, cfg.rm_similarity)
    for reason, n in data.dropped.items():
        for _ in range(n):
            state.ledger.drop("reward_model", "-", reason)
    train, heldout = split_heldout(data, cfg.rm_heldout_fraction)
    max_len = run.lengths.largest(data.rows)
    seeds = [run.seed(r, f"reward_model/{s}") for s in cfg.rm_seeds]
    states, stats = [], []
    for k, seed in zip(cfg.rm_seeds, seeds):
        weights, variant = train_reward_variant(run, state, max_len, seed, f"reward_model_{k}")
        states.append(weights)
        stats.append(variant)
    rm = averaged(reward_model_from_causal(state.model_dir, seed=seeds[0]), states)
    rm.save_pretrained(str(state.round_dir / "reward_model"))
    umask_mode(state.round_dir / "reward_model")
    summary = RewardModelSummary(
        variants=len(stats),
        loss_first=stats[0].losses[0] if stats[0].losses else None,
        loss_last=[s.losses[-1] for s in stats if s.losses],
        accuracy=[s.train_accuracy for s in stats],
        margin=[s.train_margin for s in stats],
        heldout_pairs=sum(len(p) for p in heldout.pairs),
        heldout_accuracy=pairwise_accuracy(rm, run.chat, heldout, max_len),
        # The first variant's untrained head, measured by its job on the same held-out
        # rows: what "round 0" means for the RM.
        heldout_accuracy_untrained=stats[0].heldout_accuracy_untrained,
    )
    # Rollouts may be longer than any preference row: score them whole, up to the context.
    scorer = RewardScorer(rm, run.chat, run.lengths.context)
    return RewardOutcome(scorer, summary, sum(len(p) for p in data.pairs))
