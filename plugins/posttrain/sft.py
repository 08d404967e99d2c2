"""SFT (RECIPE.md section 5): cross-entropy on assistant tokens only, the prompt masked,
several conversations packed into one sequence with attention kept inside each."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Sequence

import torch

from herd.core.records import SFTRow
from herd.plugins.posttrain.batching import pack, stack_packed
from herd.lib.chat.format import ChatFormat
from herd.plugins.posttrain.losses import sft_loss
from herd.plugins.posttrain.models import packed_logits


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
) -> SFTStats:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    encoded = [chat.encode_dialog(row.messages) for row in rows]
    packed = pack(encoded, max_len, pad_id)
    stats = SFTStats(rows=len(rows), packed_sequences=len(packed))
    stats.target_tokens = int(sum(int(p.loss_mask.sum()) for p in packed))
    if not packed:
        return stats
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for _ in range(epochs):
        rng.shuffle(packed)
        for start in range(0, len(packed), batch_sequences):
            batch = stack_packed(packed[start : start + batch_sequences], pad_id)
            logits = packed_logits(model, batch.input_ids, batch.doc_ids, batch.position_ids, batch.attention_mask)
            loss = sft_loss(logits, batch.input_ids, batch.loss_mask)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            stats.loss.append(float(loss.detach()))
    model.eval()
    return stats
