"""Step 4 of a round: online DPO (docs/recipe.md section 5). Pairs come from the newest (SFT)
policy's rollouts, best versus worst trajectory; the frozen SFT model is the reference;
variants are averaged into the round's model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from herd.core.posttrain_summary import DPOSummary
from herd.core.protocols import PostTrainResult, PostTrainSettings
from herd.core.records import PreferenceRow
from herd.lib.chat.rows import turns_text
from herd.plugins.posttrain.averaging import averaged, mean
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.judging import Judged
from herd.lib.posttraining.models import load_policy, save_policy
from herd.plugins.posttrain.training_jobs import run_job
from herd.lib.posttraining.reward import near_identical
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


def dpo_settings(cfg: PosttrainConfig, max_len: int, seed: int) -> PostTrainSettings:
    return PostTrainSettings(beta=cfg.dpo_beta, nll_coef=cfg.dpo_nll_coef, mask_special=cfg.dpo_mask_special,
                             lr=cfg.dpo_lr, epochs=cfg.dpo_epochs, batch_size=cfg.dpo_batch_pairs, max_len=max_len,
                             seed=seed)


def train_dpo_variant(run: RunInputs, state: RoundState, reference_dir: Path, pairs: list[PreferenceRow],
                      settings: PostTrainSettings, name: str) -> tuple[dict[str, torch.Tensor], PostTrainResult]:
    """One DPO variant as a trainer job: the SFT model in ``reference_dir`` (frozen as the
    reference, and the policy's start) trained on ``pairs``; its weights and stats."""
    result = run_job(run, "dpo", reference_dir, pairs, state.round_dir / "jobs" / name, settings)
    return load_policy(result.model_dir).state_dict(), result


@dataclass
class DPOOutcome:
    model_dir: Path
    summary: DPOSummary


def dpo_step(run: RunInputs, state: RoundState, reference: torch.nn.Module, reference_dir: Path,
             pairs: list[PreferenceRow]) -> DPOOutcome:
    cfg = run.cfg
    max_len = run.lengths.largest(pairs)
    states, stats = [], []
    for s in cfg.dpo_seeds:
        settings = dpo_settings(cfg, max_len, run.seed(state.round_no, f"dpo/{s}"))
        weights, variant = train_dpo_variant(run, state, reference_dir, pairs, settings, f"dpo_{s}")
        states.append(weights)
        stats.append(variant)
    model_dir = save_policy(averaged(reference, states), run.tokenizer_dir, state.round_dir / "model")
    summary = DPOSummary(
        variants=len(stats),
        pairs=len(pairs),
        loss=[mean(s.losses) for s in stats],
        nll=[mean(s.nll) for s in stats],
        reward_margin=[mean(s.margins) for s in stats],
        reward_accuracy=[mean(s.accuracy) for s in stats],
    )
    return DPOOutcome(model_dir, summary)
