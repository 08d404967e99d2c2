"""The loop's pieces on small real inputs: selection, online pairs, expert routing,
steering system prompts, failure accounting, averaging and near-identical pair drops."""

from __future__ import annotations

import pytest
import torch

from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage, PreferenceRow, text_response
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.loop import Judged, Ledger, Prompt, online_pairs, rejection_sample, sample_and_judge
from herd.lib.posttraining.models import average_state_dicts
from herd.plugins.posttrain.openai_backend import Failure
from herd.lib.posttraining.reward import reward_pairs, split_heldout
from herd.plugins.posttrain.tasks import ExactAnswer
from herd.lib.chat.text_backend import TextChatMixin


def _prompt(pid="p", capability="general", answer="5"):
    return Prompt(pid, [ChatMessage("user", "What is 2 plus 3?")], capability, "add", {"answer": answer})


def test_rejection_sampling_prefers_verified_then_reward():
    judged = [
        Judged(_prompt("a"), ["4", "5", "six"], [3.0, 0.5, 9.0], [False, True, False]),
        Judged(_prompt("b"), ["x", "y"], [0.1, 0.2], [False, False]),
        Judged(_prompt("c", answer=None), ["hi", "hello"], [0.3, 0.1], [None, None]),
    ]
    ledger = Ledger()
    rows = rejection_sample(judged, ledger, round_no=1)
    assert [r.messages[-1].content for r in rows] == ["5", "hi"]
    assert ledger.drops == [{"step": "rejection_sampling", "id": "b", "reason": "no_sample_passed_verifiers"}]


def test_online_pairs_best_versus_worst_with_drops():
    judged = [
        Judged(_prompt("a"), ["5", "4"], [0.1, 0.9], [True, False]),
        Judged(_prompt("b"), ["same", "same!"], [0.5, 0.1], [None, None]),
        Judged(_prompt("c"), ["one", "two"], [0.2, 0.2], [None, None]),
    ]
    ledger = Ledger()
    pairs = online_pairs(judged, ledger, round_no=2, similarity=0.8)
    assert len(pairs) == 1 and pairs[0].responses == [text_response("5"), text_response("4")] and pairs[0].margin == 3 and pairs[0].round == 2
    assert ledger.counts() == {"dpo_pairs.near_identical_samples": 1, "dpo_pairs.no_preference_among_samples": 1}


class _Recorder(TextChatMixin):
    """A generation backend (``protocols.Generator``) that answers from a table and
    fails where told, recording the prompts it saw."""

    def __init__(self, answers, fail=()):
        self.answers, self.fail, self.seen, self.last_failures = answers, set(fail), [], []

    def generate(self, prompts, params: SamplingParams):
        self.seen.extend(prompts)
        self.last_failures = [Failure(i, "timeout after 1s") for i, _ in enumerate(prompts) if i in self.fail]
        return [[] if i in self.fail else list(self.answers)[: params.n] for i, _ in enumerate(prompts)]


class _Scorer:
    def score(self, prompt_messages, responses):
        return [float(len(r[0].content)) for r in responses]


class _Verifiers:
    def __init__(self):
        self.judge = ExactAnswer()

    def verdicts(self, rows):
        return [None if s[0].value is None else s[0].value > 0 for s in self.judge.score(rows)]


def test_expert_generator_system_prompt_and_failures(chat):
    cfg = PosttrainConfig(samples_per_prompt=2, system_prompts={"code": "Write idiomatic code."})
    policy = _Recorder(["5", "7"], fail={1})
    expert = _Recorder(["print(5)", ""])
    prompts = [_prompt("g1"), _prompt("g2"), _prompt("c1", capability="code", answer=None)]
    ledger = Ledger()
    judged = sample_and_judge(prompts, {"code": expert}, policy, chat, _Scorer(), _Verifiers(), cfg, ledger, "rs", 0)
    assert [j.prompt.id for j in judged] == ["g1", "c1"]
    assert judged[0].verdicts == [True, False]
    assert judged[1].samples == ["print(5)"]  # the empty sample is dropped and counted
    assert len(expert.seen) == 1 and "Write idiomatic code." in expert.seen[0]
    assert all("Write idiomatic code." not in p for p in policy.seen)
    assert ledger.counts() == {"rs.generation_failed": 1, "rs.empty_sample": 1}
    assert "timeout" in [d for d in ledger.drops if d["id"] == "g2"][0]["reason"]


def test_near_identical_pairs_are_dropped_from_reward_data():
    rows = [
        PreferenceRow("a", [ChatMessage("user", "q")], [text_response(t) for t in ("The answer is 5.", "The answer is 5!", "No idea.")]),
        PreferenceRow("b", [ChatMessage("user", "q")], [text_response("Paris"), text_response("Paris.")]),
    ]
    data = reward_pairs(rows, similarity=0.9)
    assert data.pairs == [[(0, 2), (1, 2)]]
    assert data.dropped == {"near_identical_pair": 2, "row_without_pairs": 1}


def test_reward_heldout_split_is_disjoint_stable_and_complete():
    rows = [PreferenceRow(f"r{i}", [ChatMessage("user", f"q{i}")], [text_response(f"good {i}"), text_response(f"bad answer {i * 7}")])
            for i in range(50)]
    data = reward_pairs(rows, similarity=0.9)
    train, heldout = split_heldout(data, 0.2)
    again_train, again_heldout = split_heldout(data, 0.2)
    train_ids, heldout_ids = {r.id for r in train.rows}, {r.id for r in heldout.rows}
    assert not train_ids & heldout_ids and len(train_ids | heldout_ids) == 50
    assert 0 < len(heldout_ids) < 25
    assert heldout_ids == {r.id for r in again_heldout.rows} and len(again_train.rows) == len(train.rows)
    assert all(len(p) == 1 for p in heldout.pairs)


def test_average_state_dicts_is_the_mean():
    a = {"w": torch.tensor([1.0, 3.0]), "step": torch.tensor(4)}
    b = {"w": torch.tensor([3.0, 5.0]), "step": torch.tensor(4)}
    avg = average_state_dicts([a, b])
    assert torch.equal(avg["w"], torch.tensor([2.0, 4.0])) and int(avg["step"]) == 4
    with pytest.raises(ValueError, match="different parameters"):
        average_state_dicts([a, {"v": torch.tensor(1.0)}])
