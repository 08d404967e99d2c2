"""The typed state every post-training step reads: what is fixed for the run
(``RunInputs``) and what one round carries (``RoundState``), the drop ledger, and the
per-step seeds.

Seeds: each step's randomness is a function of (``run.seed``, ``[posttrain] seed``, round,
step) only (``step_seed``), and ``seeded_step`` resets the global ``random``, NumPy and
torch generators to it on entry. A step therefore never inherits random state from the
step before it, so a run resumed after round ``r`` (whose earlier steps and round-0
evaluation are skipped) samples exactly what an uninterrupted run samples.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from herd.core.pipeline import StageContext
from herd.core.records import PreferenceRow, SFTRow
from herd.lib.chat.format import ChatFormat
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.lengths import LengthPolicy


def step_seed(run_seed: int, posttrain_seed: int, round_no: int, step: str) -> int:
    """A 31-bit seed for one step of one round (stable across Python versions and runs)."""
    text = f"{run_seed}/{posttrain_seed}/{round_no}/{step}".encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") % (2**31 - 1)


def seed_globals(seed: int) -> None:
    """Reset the global generators that components outside herd's control may draw from
    (a synthesizer's ``random.choice``, torch's default generator...)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


@dataclass(frozen=True)
class LedgerEntry:
    step: str
    id: str
    reason: str


@dataclass
class Ledger:
    """Every row dropped in a round, with the step and the reason (``reason`` starts with
    a short code, ``code: detail``)."""

    drops: list[LedgerEntry] = field(default_factory=list)

    def drop(self, step: str, row_id: str, reason: str) -> None:
        self.drops.append(LedgerEntry(step, row_id, reason))

    def counts(self) -> dict[str, int]:
        return dict(Counter(f"{d.step}.{d.reason.split(':')[0]}" for d in self.drops))

    def records(self) -> list[dict[str, Any]]:
        return [asdict(d) for d in self.drops]


@dataclass
class RunInputs:
    """What every round of one stage run shares."""

    ctx: StageContext
    cfg: PosttrainConfig
    chat: ChatFormat
    tokenizer_dir: Path
    pad_id: int
    lengths: LengthPolicy
    run_seed: int
    human_sft: list[SFTRow] = field(default_factory=list)

    def seed(self, round_no: int, step: str) -> int:
        return step_seed(self.run_seed, self.cfg.seed, round_no, step)

    def seeded_step(self, round_no: int, step: str) -> int:
        """Enter a step: reset the global generators to its seed and return the seed."""
        seed = self.seed(round_no, step)
        seed_globals(seed)
        return seed


@dataclass
class RoundState:
    """One round: its number and folder, the model it starts from, the preference pool
    of every round so far (the reward model trains on it) and the round's drop ledger."""

    round_no: int
    round_dir: Path
    model_dir: Path
    pool: list[PreferenceRow]
    ledger: Ledger
