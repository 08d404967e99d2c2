"""Learning-rate and batch schedules of the pretraining stages (docs/recipe.md section 4).

Rates are functions of the stage's progress, so the schedule's whole state is the step and
token counters a checkpoint already holds:

- ``initial`` and ``continued``: linear warm-up over ``warmup_steps``, then cosine decay from
  ``lr_peak`` to the floor ``lr_final`` over the stage's tokens (4.1: 8e-5 -> 8e-7).
- ``long_context``: constant ``lr_peak`` (the run goes on at its floor while context grows).
- ``anneal``: linear from ``lr_peak`` to ``lr_final`` (0) over the stage's tokens (4.3).
"""

from __future__ import annotations

import math

from herd.core.protocols import TrainStage

KINDS = ("initial", "continued", "long_context", "anneal")


def lr_at(stage: TrainStage, step: int, tokens_done: int) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of ``stage`` after ``tokens_done`` tokens."""
    if stage.kind not in KINDS:
        raise ValueError(f"stage {stage.name!r}: unknown kind {stage.kind!r}; kinds are {', '.join(KINDS)}")
    progress = min(1.0, tokens_done / stage.tokens) if stage.tokens > 0 else 1.0
    if stage.kind == "long_context":
        return stage.lr_peak
    if stage.kind == "anneal":
        return stage.lr_peak + (stage.lr_final - stage.lr_peak) * progress
    if step < stage.warmup_steps:
        return stage.lr_peak * (step + 1) / stage.warmup_steps
    return stage.lr_final + 0.5 * (stage.lr_peak - stage.lr_final) * (1 + math.cos(math.pi * progress))


def batch_at(stage: TrainStage, tokens_done: int) -> tuple[int, int]:
    """``(batch_tokens, seq_len)`` after ``tokens_done`` tokens of the stage: the stage's own
    values until the first ramp step's threshold, then that step's (docs/recipe.md 4.1: 4M tokens
    at 4,096, 8M at 8,192 after 252M tokens, 16M after 2.87T)."""
    batch, seq = stage.batch_tokens, stage.seq_len
    for after, ramp_batch, ramp_seq in sorted(stage.batch_ramp):
        if tokens_done >= after:
            batch, seq = ramp_batch, ramp_seq
    if batch < seq:
        raise ValueError(f"stage {stage.name!r}: batch of {batch} tokens is shorter than one sequence of {seq}")
    return batch, seq
