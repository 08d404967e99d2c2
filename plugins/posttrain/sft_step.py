"""Step 3 of a round: SFT on the rejection-sampled, synthetic and human rows after the SFT
funnel, variants (seeds x learning-rate scales) averaged (RECIPE.md section 5)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch

from herd.core.pipeline import StageContext
from herd.core.posttrain_summary import SFTSummary
from herd.core.records import SFTRow
from herd.core.services import Services
from herd.lib.chat.format import ChatFormat
from herd.plugins.posttrain.averaging import averaged
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.models import load_policy, save_policy
from herd.plugins.posttrain.round_state import Ledger, RoundState, RunInputs
from herd.plugins.posttrain.sft import SFTStats, train_sft


def sft_funnel(ctx: StageContext, services: Services, rows: list[SFTRow], ledger: Ledger) -> tuple[list[SFTRow], dict[str, int]]:
    """The judges' SFT funnel (``[sft_funnel]``: rule cleaning, quality, difficulty, topic,
    semantic dedup) over the round's SFT data; every dropped row goes to the ledger with
    the judge's reason. Without the judges plugin the rows pass unchanged."""
    if not ctx.config.has_section("sft_funnel"):
        return rows, {}
    from herd.lib.sft_funnel.funnel import build_funnel, run_funnel

    judges, cfg, embed = build_funnel(ctx, services)
    result = run_funnel(rows, judges, cfg, embed)
    for dropped in result.dropped:
        ledger.drop("sft_funnel", dropped.row.id, f"{dropped.reason}: {dropped.detail}")
    return result.kept, result.counts


def train_sft_variant(base: torch.nn.Module, chat: ChatFormat, rows: list[SFTRow], cfg: PosttrainConfig, lr: float,
                      max_len: int, pad_id: int, seed: int) -> tuple[dict[str, torch.Tensor], SFTStats]:
    """One SFT variant from ``base`` (left unchanged): its weights and stats. Rows are packed
    into sequences of ``max_len`` tokens, the largest row limit in play, so none is cut."""
    model = copy.deepcopy(base)
    stats = train_sft(model, chat, rows, lr=lr, epochs=cfg.sft_epochs, batch_sequences=cfg.sft_batch_sequences,
                      max_len=max_len, pad_id=pad_id, seed=seed)
    return model.state_dict(), stats


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
            weights, variant = train_sft_variant(base, run.chat, rows, cfg, cfg.sft_lr * scale, max_len, run.pad_id,
                                                 seed)
            states.append(weights)
            stats.append(variant)
    model = averaged(base, states)
    model_dir = save_policy(model, run.tokenizer_dir, state.round_dir / "sft_model")
    summary = SFTSummary(
        variants=len(stats),
        loss_first=[s.loss[0] for s in stats if s.loss],
        loss_last=[s.loss[-1] for s in stats if s.loss],
        packed_sequences=stats[0].packed_sequences,
        target_tokens=stats[0].target_tokens,
        max_len=max_len,
    )
    return SFTOutcome(model, model_dir, summary)
