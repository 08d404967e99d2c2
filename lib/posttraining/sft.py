"""SFT (docs/recipe.md section 5): cross-entropy on assistant tokens only, the prompt masked,
several conversations packed into one sequence with attention kept inside each."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Sequence

import torch

from herd.core.records import SFTRow
from herd.lib.posttraining.batching import pack, stack_packed
from herd.lib.chat.format import ChatFormat
from herd.lib.posttraining.losses import sft_loss_sum
from herd.lib.posttraining.models import packed_logits
from herd.lib.posttraining.parallel import SINGLE, DataParallel, clip_and_step
from herd.lib.training.step_log import JobSteps


@dataclass
class SFTStats:
    loss: list[float] = field(default_factory=list)
    rows: int = 0
    packed_sequences: int = 0
    target_tokens: int = 0


def train_sft(
    model,
    chat: ChatFormat,
    rows: Sequence[SFTRow],
    *,
    lr: float,
    epochs: int,
    batch_sequences: int,
    max_len: int,
    pad_id: int,
    seed: int,
    dp: DataParallel = SINGLE,
    steps: JobSteps = JobSteps(None),
) -> SFTStats:
    """``batch_sequences`` packed sequences per optimizer step over all ``dp`` ranks; each
    step's loss is the mean over the batch's target tokens (``sft_loss``); ``steps``
    records each step (rank 0)."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    encoded = [chat.encode_dialog(row.messages) for row in rows]
    packed = pack(encoded, max_len, pad_id)
    stats = SFTStats(rows=len(rows), packed_sequences=len(packed))
    stats.target_tokens = int(sum(int(p.loss_mask.sum()) for p in packed))
    if not packed:
        return stats
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    model.train()
    steps.start(epochs * -(-len(packed) // batch_sequences))
    for _ in range(epochs):
        rng.shuffle(packed)
        for start in range(0, len(packed), batch_sequences):
            t0 = time.perf_counter()
            chunk = packed[start : start + batch_sequences]
            count = sum(int(p.loss_mask[:, 1:].sum()) for p in chunk)
            if count == 0:
                raise ValueError("SFT batch has no assistant tokens to train on")
            mine, weight = dp.share(chunk)
            batch = dp.put(stack_packed(mine, pad_id))
            with dp.autocast():
                logits = packed_logits(model, batch.input_ids, batch.doc_ids, batch.position_ids, batch.attention_mask)
            total = sft_loss_sum(logits, batch.input_ids, batch.loss_mask) * weight
            optimizer.zero_grad(set_to_none=True)
            (total * (dp.loss_scale / count)).backward()
            grad_norm = clip_and_step(params, optimizer, dp)
            stats.loss.append(float(dp.all_sum(total.detach())) / count)
            steps.step(stats.loss[-1], lr, grad_norm, sum(int((p.doc_ids >= 0).sum()) for p in chunk),
                       time.perf_counter() - t0)
    model.eval()
    return stats
