"""The outcome and step-wise reward models (docs/recipe.md section 6): both start from the
policy's weights (``reward_model_from_causal``: a Llama backbone with a scalar head) and
are trained pointwise with binary cross-entropy, the ORM on P(final answer correct) at the
trace's ``<|eot_id|>``, the PRM on each step's Math-Shepherd label at the step's last token.

A trace is encoded as the chat prompt, then each line followed by a newline, then
``<|eot_id|>``; lines are tokenized one by one, so a prefix of a trace encodes as a prefix
of its ids and the PRM scores a partial solution (MCTS) exactly as it scores its steps
inside a whole one (the model is causal).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from herd.core.records import ChatMessage
from herd.lib.chat.format import EOT, ChatFormat
from herd.lib.posttraining.reward import reward_model_from_causal

KINDS = ("outcome", "step")


@dataclass(frozen=True)
class Example:
    """A trace and its labels: one (the outcome) or one per line (the steps), in [0, 1]."""

    id: str
    prompt: str
    lines: tuple[str, ...]
    labels: tuple[float, ...]


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    step_ends: list[int]  # the index of each line's last token (its newline)

    @property
    def end(self) -> int:
        return len(self.ids) - 1


def encode_trace(chat: ChatFormat, prompt: str, lines: Sequence[str]) -> Encoded:
    ids = list(chat.encode_prompt([ChatMessage("user", prompt)]).ids)
    ends = []
    for line in lines:
        ids.extend(chat.encode_text(f"{line}\n"))
        ends.append(len(ids) - 1)
    ids.append(chat.special_ids[EOT])
    return Encoded(ids, ends)


@dataclass
class TrainStats:
    examples: int = 0
    too_long: int = 0
    loss: list[float] = field(default_factory=list)


class PointwiseRM:
    """A reward model of ``kind`` "outcome" (one probability per trace) or "step" (one per
    line), with the backbone of the causal LM in ``policy_dir``."""

    def __init__(self, policy_dir: Path, chat: ChatFormat, kind: str, max_len: int, seed: int):
        if kind not in KINDS:
            raise ValueError(f"reward model kind {kind!r}: must be one of {', '.join(KINDS)}")
        self.model = reward_model_from_causal(Path(policy_dir), seed=seed)
        self.chat, self.kind, self.seed = chat, kind, seed
        context = getattr(self.model.config, "max_position_embeddings", max_len)
        self.max_len = min(max_len, context)

    def fits(self, prompt: str, lines: Sequence[str]) -> bool:
        return len(encode_trace(self.chat, prompt, lines).ids) <= self.max_len

    def _logits(self, encoded: Encoded) -> torch.Tensor:
        hidden = self.model.model(input_ids=torch.tensor([encoded.ids])).last_hidden_state[0]
        where = [encoded.end] if self.kind == "outcome" else encoded.step_ends
        return self.model.score(hidden[torch.tensor(where)]).squeeze(-1).float()

    def train(self, examples: Sequence[Example], *, lr: float, epochs: int, batch_rows: int) -> TrainStats:
        """BCE over ``epochs`` shuffled passes, ``batch_rows`` traces a step (the loss of a
        step: the mean over its traces of each trace's mean label loss). Traces longer
        than ``max_len`` are left out and counted."""
        rng = random.Random(f"herd.math.rm:{self.kind}:{self.seed}")
        torch.manual_seed(self.seed)
        data = []
        stats = TrainStats()
        for example in examples:
            encoded = encode_trace(self.chat, example.prompt, example.lines)
            wanted = 1 if self.kind == "outcome" else len(example.lines)
            if len(example.labels) != wanted:
                raise ValueError(f"reward model example {example.id}: {len(example.labels)} labels for a "
                                 f"{self.kind} model of a {len(example.lines)}-line trace (needs {wanted})")
            if len(encoded.ids) > self.max_len:
                stats.too_long += 1
                continue
            data.append((encoded, torch.tensor(example.labels, dtype=torch.float32)))
        stats.examples = len(data)
        if not data:
            return stats
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
        self.model.train()
        order = list(range(len(data)))
        for _ in range(epochs):
            rng.shuffle(order)
            for start in range(0, len(order), batch_rows):
                chunk = order[start : start + batch_rows]
                optimizer.zero_grad(set_to_none=True)
                total = 0.0
                for i in chunk:
                    encoded, labels = data[i]
                    loss = F.binary_cross_entropy_with_logits(self._logits(encoded), labels) / len(chunk)
                    loss.backward()
                    total += float(loss.detach())
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                stats.loss.append(total)
        self.model.eval()
        return stats

    @torch.no_grad()
    def scores(self, prompt: str, lines: Sequence[str]) -> list[float]:
        """P(correct): one value (outcome) or one per line (step); a trace longer than
        ``max_len`` gets none (an empty list): its end would fall outside what was trained."""
        encoded = encode_trace(self.chat, prompt, lines)
        if len(encoded.ids) > self.max_len:
            return []
        self.model.eval()
        return [float(p) for p in torch.sigmoid(self._logits(encoded))]


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The area under the ROC curve (ties count half); None when one class is missing."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def accuracy(scores: Sequence[float], labels: Sequence[bool], threshold: float) -> float | None:
    if not scores:
        return None
    return sum((s >= threshold) == bool(y) for s, y in zip(scores, labels)) / len(scores)
