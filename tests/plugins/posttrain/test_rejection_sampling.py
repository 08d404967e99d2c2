"""Rejection sampling on small real inputs: best-trajectory selection, expert routing,
steering system prompts and failure accounting."""

from __future__ import annotations

from herd.core.protocols import ChatReply, SamplingParams
from herd.core.records import ChatMessage, SFTRow, Trajectory
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.judging import Judged
from herd.plugins.posttrain.openai_backend import Failure
from herd.plugins.posttrain.rejection_sampling import rejection_sample, split_prompts
from herd.plugins.posttrain.rollouts import Environments, Prompt
from herd.plugins.posttrain.round_state import Ledger, LedgerEntry
from herd.plugins.posttrain.sampling import Sampler, sample_and_judge
from herd.plugins.posttrain.tasks import ExactAnswer


def _prompt(pid="p", capability="general", answer="5"):
    return Prompt(pid, [ChatMessage("user", "What is 2 plus 3?")], capability, "add", {"answer": answer})


def _judged(prompt, texts, rewards, verdicts):
    trajectories = [Trajectory(prompt.messages, [ChatMessage("assistant", t)]) for t in texts]
    return Judged(prompt, trajectories, rewards, verdicts)


def test_rejection_sampling_prefers_verified_then_reward():
    judged = [
        _judged(_prompt("a"), ["4", "5", "six"], [3.0, 0.5, 9.0], [False, True, False]),
        _judged(_prompt("b"), ["x", "y"], [0.1, 0.2], [False, False]),
        _judged(_prompt("c", answer=None), ["hi", "hello"], [0.3, 0.1], [None, None]),
    ]
    ledger = Ledger()
    rows = rejection_sample(judged, ledger, round_no=1)
    assert [r.messages[-1].content for r in rows] == ["5", "hi"]
    assert rows[0].messages == judged[0].prompt.messages + [ChatMessage("assistant", "5")]
    assert ledger.drops == [LedgerEntry("rejection_sampling", "b", "no_sample_passed_verifiers")]


def test_a_trajectory_cut_at_the_step_cap_ranks_below_a_finished_one():
    prompt = _prompt("a", answer=None)
    finished = Trajectory(prompt.messages, [ChatMessage("assistant", "done")], finish="end_of_turn")
    capped = Trajectory(prompt.messages, [ChatMessage("assistant", "calc(1)")], finish="step_cap")
    judged = Judged(prompt, [capped, finished], [5.0, 0.1], [None, None])
    assert judged.ranked() == [1, 0]


def test_prompts_are_split_reproducibly_between_rs_and_dpo():
    rows = [SFTRow(f"r{i}", [ChatMessage("user", f"q{i}"), ChatMessage("assistant", "a")]) for i in range(10)]
    a, b = split_prompts(rows, 4, 3, seed=7), split_prompts(rows, 4, 3, seed=7)
    assert [p.id for p in a.rejection_sampling] == [p.id for p in b.rejection_sampling]
    assert len(a.rejection_sampling) == 4 and len(a.dpo) == 3
    assert not {p.id for p in a.rejection_sampling} & {p.id for p in a.dpo}
    assert [p.id for p in split_prompts(rows, 4, 3, seed=8).rejection_sampling] != [p.id for p in a.rejection_sampling]


def test_a_tool_trajectory_is_sampled_from_its_first_call_and_a_chat_from_its_last_turn():
    tool_row = SFTRow("t", [ChatMessage("system", "Environment: ipython"), ChatMessage("user", "6*7?"),
                            ChatMessage("assistant", "<|python_tag|>print(6*7)"), ChatMessage("ipython", "42"),
                            ChatMessage("assistant", "It is 42.")], capability="tool_use")
    chat_row = SFTRow("c", [ChatMessage("user", "hi"), ChatMessage("assistant", "hello"),
                            ChatMessage("user", "bye"), ChatMessage("assistant", "bye")])
    prompts = {p.id: p for p in split_prompts([tool_row, chat_row], 2, 0, seed=0).rejection_sampling}
    tool, chat = prompts["t"], prompts["c"]
    assert [m.role for m in tool.messages] == ["system", "user"]
    assert [m.content for m in chat.messages] == ["hi", "hello", "bye"]


class Recorder:
    """A generation backend (``protocols.Generator``) that answers from a table and fails
    where told, recording the conversations it saw."""

    def __init__(self, answers, fail=()):
        self.answers, self.fail, self.seen, self.last_failures = answers, set(fail), [], []

    def generate(self, prompts, params: SamplingParams):
        raise AssertionError("rollouts use chat")

    def chat(self, conversations, params: SamplingParams):
        self.seen.extend(conversations)
        self.last_failures = [Failure(i, "timeout after 1s") for i, _ in enumerate(conversations) if i in self.fail]
        return [[] if i in self.fail else [ChatReply(ChatMessage("assistant", a)) for a in self.answers[: params.n]]
                for i, _ in enumerate(conversations)]


class LengthScorer:
    def score(self, prompt_messages, responses):
        return [float(len(r[0].content)) for r in responses]


class ExactVerifier:
    def __init__(self):
        self.judge = ExactAnswer()

    def verdicts(self, rows):
        return [None if s[0].value is None else s[0].value > 0 for s in self.judge.score(rows)]


def test_expert_generator_system_prompt_and_failures():
    cfg = PosttrainConfig(samples_per_prompt=2, system_prompts={"code": "Write idiomatic code."})
    policy = Recorder(["5", "7"], fail={1})
    expert = Recorder(["print(5)", ""])
    prompts = [_prompt("g1"), _prompt("g2"), _prompt("c1", capability="code", answer=None)]
    ledger = Ledger()
    sampler = Sampler(policy, {"code": expert}, Environments.of([]), cfg)
    judged = sample_and_judge(prompts, sampler, LengthScorer(), ExactVerifier(), ledger, "rs", 0)
    assert [j.prompt.id for j in judged] == ["g1", "c1"]
    assert judged[0].verdicts == [True, False]
    assert [t.turns[0].content for t in judged[1].trajectories] == ["print(5)"]  # the empty turn is dropped, counted
    assert len(expert.seen) == 1 and expert.seen[0][0] == ChatMessage("system", "Write idiomatic code.")
    assert all(m.role != "system" for conversation in policy.seen for m in conversation)
    assert judged[1].trajectories[0].prompt == prompts[2].messages  # the trajectory keeps the original prompt
    assert ledger.counts() == {"rs.generation_failed": 1, "rs.empty_sample": 1}
    assert "timeout" in [d for d in ledger.drops if d.id == "g2"][0].reason
