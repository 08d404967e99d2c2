"""The reward model (docs/recipe.md section 5): a Llama backbone with a scalar head, trained
with the Bradley-Terry loss over every ordered pair of each row's ranking.

The model is a Hugging Face ``LlamaForSequenceClassification`` with one label (the
backbone is ``.model``, the head ``.score``), so a saved RM loads in any HF tool and TRL's
``RewardTrainer`` sees the same architecture. A response's score is the head applied to
the hidden state of its last token (its ``<|eot_id|>``).

Training lays each prompt and all its responses out in one sequence (``multi_response``),
each response masked from the others, so one forward pass scores them all; responses are
shuffled so their position says nothing about their rank. Pairs whose responses are
near-identical carry no signal and are dropped (``near_identical``).
"""

from __future__ import annotations

import difflib
import hashlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from herd.core.records import ChatMessage, PreferenceRow
from herd.lib.posttraining.batching import MultiResponse, multi_response
from herd.lib.chat.format import ChatFormat, Encoded
from herd.lib.chat.rows import turns_text
from herd.lib.posttraining.losses import bradley_terry_loss, ranked_pairs
from herd.lib.posttraining.parallel import SINGLE, DataParallel, clip_and_step
from herd.lib.training.step_log import JobSteps


def reward_model_from_causal(causal_dir: Path, seed: int = 0):
    """A fresh RM whose backbone is the causal LM's and whose head is zero (RM training
    starts from the policy's weights, as the recipe's RMs start from pre-trained ones)."""
    from transformers import LlamaForSequenceClassification

    model = LlamaForSequenceClassification.from_pretrained(str(causal_dir), num_labels=1)
    torch.manual_seed(seed)
    torch.nn.init.normal_(model.score.weight, std=1.0 / model.config.hidden_size**0.5)
    return model.float()


def _head(model) -> torch.nn.Module:
    return model.score


def score_separately(model, prompt: Encoded, responses: Sequence[Encoded]) -> torch.Tensor:
    """Scores of each response in its own forward pass (the reference the trick must match)."""
    scores = []
    for resp in responses:
        seq = prompt + resp
        ids = torch.tensor([seq.ids])
        hidden = model.model(input_ids=ids).last_hidden_state
        scores.append(_head(model)(hidden[0, -1]).squeeze(-1))
    return torch.stack(scores)


def score_together(
    model, prompt: Encoded, responses: Sequence[Encoded], rng: random.Random | None = None
) -> torch.Tensor:
    """Scores of all responses from one forward pass (the recipe's trick), in input order."""
    return score_layout(model, multi_response(prompt, list(responses), rng))


def score_layout(model, layout: MultiResponse) -> torch.Tensor:
    """The scores of a ``multi_response`` layout's responses, in the caller's order."""
    param = next(model.parameters())
    hidden = model.model(
        input_ids=layout.input_ids.to(param.device),
        attention_mask=layout.attention_mask.to(device=param.device, dtype=param.dtype),
        position_ids=layout.position_ids.to(param.device),
    ).last_hidden_state
    ends = torch.tensor(layout.score_index, device=param.device)
    return _head(model)(hidden[0, ends]).squeeze(-1)


def near_identical(a: str, b: str, threshold: float) -> bool:
    """Whether two responses are too similar to teach a preference (character-level
    similarity ratio at or above ``threshold``)."""
    if a.strip() == b.strip():
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= threshold


@dataclass
class RewardData:
    """Rows ready for RM training with the pairs kept per row, and what was dropped."""

    rows: list[PreferenceRow] = field(default_factory=list)
    pairs: list[list[tuple[int, int]]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)


def reward_pairs(rows: Sequence[PreferenceRow], similarity: float) -> RewardData:
    out = RewardData()
    for row in rows:
        kept = []
        for i, j in ranked_pairs(len(row.responses)):
            if near_identical(turns_text(row.responses[i]), turns_text(row.responses[j]), similarity):
                out.dropped["near_identical_pair"] = out.dropped.get("near_identical_pair", 0) + 1
                continue
            kept.append((i, j))
        if not kept:
            out.dropped["row_without_pairs"] = out.dropped.get("row_without_pairs", 0) + 1
            continue
        out.rows.append(row)
        out.pairs.append(kept)
    return out


def split_heldout(data: RewardData, fraction: float) -> tuple[RewardData, RewardData]:
    """(training rows, held-out rows): every ``1/fraction``-th row by a stable hash of its
    id, so a row stays on its side across rounds and re-runs."""
    train, heldout = RewardData(dropped=dict(data.dropped)), RewardData()
    every = round(1 / fraction) if fraction > 0 else 0
    for row, pairs in zip(data.rows, data.pairs):
        side = heldout if every and stable_bucket(row.id, every) == 0 else train
        side.rows.append(row)
        side.pairs.append(pairs)
    if not train.rows:  # too few rows to hold any out: train on all, measure on none
        return data, RewardData()
    return train, heldout


def stable_bucket(text: str, buckets: int) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big") % buckets


@torch.no_grad()
def pairwise_accuracy(model, chat: ChatFormat, data: RewardData, max_len: int) -> float | None:
    """Share of ranked pairs the model orders correctly (None without pairs)."""
    was_training = model.training
    model.eval()
    correct = total = 0
    for row, pairs in zip(data.rows, data.pairs):
        scores = score_together(model, *_encode_row(chat, row, max_len))
        correct += sum(int(scores[i] > scores[j]) for i, j in pairs)
        total += len(pairs)
    model.train(was_training)
    return correct / total if total else None


@dataclass
class RewardStats:
    loss: list[float] = field(default_factory=list)
    accuracy: float = 0.0
    margin: float = 0.0
    pairs: int = 0


def train_reward_model(
    model,
    chat: ChatFormat,
    data: RewardData,
    *,
    lr: float,
    epochs: int,
    batch_rows: int,
    max_len: int,
    seed: int,
    dp: DataParallel = SINGLE,
    steps: JobSteps = JobSteps(None),
) -> RewardStats:
    """Bradley-Terry training, one sequence per prompt with all its responses, ``batch_rows``
    rows per step over all ``dp`` ranks (the loss is the mean over the batch's pairs).
    Every rank lays out every row of a batch, so the response shuffles draw from ``rng``
    in the single-process order, and scores only its own rows."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    encoded = [_encode_row(chat, row, max_len) for row in data.rows]
    stats = RewardStats(pairs=sum(len(p) for p in data.pairs))
    model.train()
    order = list(range(len(encoded)))
    steps.start(epochs * -(-len(order) // batch_rows))
    for _ in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), batch_rows):
            t0 = time.perf_counter()
            chunk = order[start : start + batch_rows]
            layouts = [(i, multi_response(encoded[i][0], encoded[i][1], rng)) for i in chunk]
            n_pairs = sum(len(data.pairs[i]) for i in chunk)
            mine, weight = dp.share(layouts)
            with dp.autocast():
                scores = [score_layout(model, layout).float() for _, layout in mine]
            total = bradley_terry_loss(scores, [data.pairs[i] for i, _ in mine]) * len(
                [p for i, _ in mine for p in data.pairs[i]]) * weight
            optimizer.zero_grad(set_to_none=True)
            (total * (dp.loss_scale / n_pairs)).backward()
            grad_norm = clip_and_step(params, optimizer, dp)
            stats.loss.append(float(dp.all_sum(total.detach())) / n_pairs)
            steps.step(stats.loss[-1], lr, grad_norm, sum(layout.input_ids.shape[1] for _, layout in layouts),
                       time.perf_counter() - t0)
    model.eval()
    correct, margin_sum = _pair_totals(model, encoded, data.pairs, dp)
    stats.accuracy = correct / max(1, stats.pairs)
    stats.margin = margin_sum / max(1, stats.pairs)
    return stats


@torch.no_grad()
def _pair_totals(model, encoded, pairs, dp: DataParallel) -> tuple[float, float]:
    """Correctly ordered pairs and the summed score margin over every row (rows shared
    among the ranks)."""
    totals = torch.zeros(2, dtype=torch.float64)
    for k, ((prompt, responses), row_pairs) in enumerate(zip(encoded, pairs)):
        if k % dp.size != dp.rank:
            continue
        with dp.autocast():
            s = score_together(model, prompt, responses).float().cpu()
        for i, j in row_pairs:
            totals[0] += float(s[i] > s[j])
            totals[1] += float(s[i] - s[j])
    if dp.size > 1:
        totals = dp.all_sum(totals.to(next(model.parameters()).device)).cpu()
    return float(totals[0]), float(totals[1])


def _encode_row(chat: ChatFormat, row: PreferenceRow, max_len: int) -> tuple[Encoded, list[Encoded]]:
    prompt = chat.encode_prompt(row.prompt)
    room = max(1, max_len - len(prompt))
    responses = []
    for turns in row.responses:
        resp = chat.encode_turns(row.prompt, turns)
        if len(resp) > room:  # keep the terminator: its hidden state is what gets scored
            resp = Encoded(resp.ids[: room - 1] + resp.ids[-1:], resp.loss[:room], resp.special[: room - 1] + resp.special[-1:])
        responses.append(resp)
    return prompt, responses


class RewardScorer:
    """Scores (prompt, response) pairs with a trained RM, batched per prompt."""

    def __init__(self, model, chat: ChatFormat, max_len: int):
        self.model = model.eval()
        self.chat = chat
        self.max_len = max_len

    @torch.no_grad()
    def score(self, prompt_messages: Sequence[ChatMessage], responses: Sequence[list[ChatMessage]]) -> list[float]:
        row = PreferenceRow(id="score", prompt=list(prompt_messages), responses=list(responses))
        prompt, encoded = _encode_row(self.chat, row, self.max_len)
        return [float(x) for x in score_together(self.model, prompt, encoded)]
