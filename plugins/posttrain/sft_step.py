"""Step 3 of a round: SFT on the rejection-sampled, synthetic and human rows after the SFT
funnel, variants (seeds x learning-rate scales) averaged (docs/recipe.md section 5)."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from herd.core.pipeline import StageContext
from herd.core.posttrain_summary import SFTSummary
from herd.core.protocols import PostTrainResult, PostTrainSettings
from herd.core.records import REWARD_SCORE, SFTRow
from herd.core.services import Services
from herd.lib.sft_funnel.report import SFTDataReport
from herd.plugins.posttrain.averaging import averaged
from herd.plugins.posttrain.judging import RewardSource
from herd.lib.posttraining.models import load_policy, save_policy
from herd.plugins.posttrain.round_state import Ledger, RoundState, RunInputs
from herd.plugins.posttrain.training_jobs import run_job


def reward_scored(rows: list[SFTRow], scorer: RewardSource) -> None:
    """Give every row without one the reward model's score (``REWARD_SCORE``), so the
    quality judge ranks the whole round's SFT data: rejection-sampled rows carry the score
    that chose them; synthetic and human rows are scored here, their response being the
    turns after the last user message."""
    for row in rows:
        if row.scores.get(REWARD_SCORE) is not None:
            continue
        users = [i for i, m in enumerate(row.messages) if m.role == "user"]
        split = users[-1] + 1 if users else 0
        row.scores[REWARD_SCORE] = scorer.score(row.messages[:split], [row.messages[split:]])[0]


def fresh(row: SFTRow) -> SFTRow:
    """A copy for this round's judges to score and label: human rows are used in every
    round, and one round's reward model and judges must not leave marks the next sees."""
    return dataclasses.replace(row, scores=dict(row.scores), metadata=copy.deepcopy(row.metadata))


@dataclass
class FunnelOutcome:
    rows: list[SFTRow]
    counts: dict[str, int]
    report: SFTDataReport | None  # None without the judges plugin


def sft_funnel(ctx: StageContext, services: Services, rows: list[SFTRow], ledger: Ledger, *, round_no: int,
               seed: int, scorer: RewardSource | None = None) -> FunnelOutcome:
    """The judges' SFT funnel (``[sft_funnel]``: rule cleaning, language, quality, difficulty,
    topic, semantic dedup) over the round's SFT data scored by the round's reward model
    (``scorer``), then the SFT mix enforced (``[sft_funnel.mix]``); every dropped row goes
    to the ledger with the judge's reason. Without the judges plugin the rows pass unchanged."""
    if not ctx.config.has_section("sft_funnel"):
        return FunnelOutcome(rows, {}, None)
    from herd.lib.sft_funnel.funnel import build_funnel, run_funnel
    from herd.lib.sft_funnel.mix import enforce_mix

    rows = [fresh(row) for row in rows]
    if scorer is not None:
        reward_scored(rows, scorer)
    judges, cfg, embed = build_funnel(ctx, services)
    result = run_funnel(rows, judges, cfg, embed)
    mix = enforce_mix(result.kept, cfg.mix, seed)
    for dropped in result.dropped + mix.dropped:
        ledger.drop("sft_funnel", dropped.row.id, f"{dropped.reason}: {dropped.detail}")
    for group in mix.report.short():
        ctx.log.info("round %d: SFT mix: capability %s is %s (%d rows for a target share of %g)", round_no,
                     group.name, group.status, group.available, group.target)
    counts = {**result.counts, "dropped.sft_mix.down_sampled": len(mix.dropped), "after.sft_mix": len(mix.kept)}
    result.kept = mix.kept
    report = SFTDataReport(round_no, len(rows), result.steps, result.labels(), mix.report)
    return FunnelOutcome(mix.kept, counts, report)


def train_sft_variant(run: RunInputs, state: RoundState, rows: list[SFTRow], lr: float, max_len: int,
                      seed: int, name: str) -> tuple[dict[str, torch.Tensor], PostTrainResult]:
    """One SFT variant from the round's model, as a trainer job: its weights and stats.
    Rows are packed into sequences of ``max_len`` tokens, the largest row limit in play, so
    none is cut."""
    cfg = run.cfg
    settings = PostTrainSettings(lr=lr, epochs=cfg.sft_epochs, batch_size=cfg.sft_batch_sequences, max_len=max_len,
                                 seed=seed)
    result = run_job(run, "sft", state.model_dir, rows, state.round_dir / "jobs" / name, settings)
    return load_policy(result.model_dir).state_dict(), result


@dataclass
class SFTOutcome:
    model: torch.nn.Module
    model_dir: Path
    summary: SFTSummary


def sft_step(run: RunInputs, state: RoundState, rows: list[SFTRow]) -> SFTOutcome:
    cfg = run.cfg
    base = load_policy(state.model_dir)
    max_len = run.lengths.largest(rows)
    states, stats = [], []
    for s in cfg.sft_seeds:
        seed = run.seed(state.round_no, f"sft/{s}")
        for scale in cfg.sft_lr_scales:
            weights, variant = train_sft_variant(run, state, rows, cfg.sft_lr * scale, max_len, seed,
                                                 f"sft_{s}_{scale:g}")
            states.append(weights)
            stats.append(variant)
    model = averaged(base, states)
    model_dir = save_policy(model, run.tokenizer_dir, state.round_dir / "sft_model")
    summary = SFTSummary(
        variants=len(stats),
        loss_first=[s.losses[0] for s in stats if s.losses],
        loss_last=[s.losses[-1] for s in stats if s.losses],
        packed_sequences=stats[0].packed_sequences,
        target_tokens=stats[0].target_tokens,
        max_len=max_len,
    )
    return SFTOutcome(model, model_dir, summary)
