"""Rollouts with an environment a third-party plugin registers: a calculator that answers
``calc(...)`` turns. A scripted model calls it, reads the result and answers; rejection
sampling keeps that 3-turn trajectory and DPO pairs it against a wrong direct answer."""

from __future__ import annotations

import logging
import re

import pytest

from herd.core.app import App
from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageContext
from herd.core.protocols import ChatReply, SamplingParams
from herd.core.records import ChatMessage, SFTRow
from herd.core.services import Services
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.dpo_step import online_pairs
from herd.plugins.posttrain.rejection_sampling import rejection_sample
from herd.plugins.posttrain.rollouts import Environments, Prompt
from herd.plugins.posttrain.round_state import Ledger
from herd.plugins.posttrain.sampling import Sampler, sample_and_judge
from herd.plugins.posttrain.tasks import ExactAnswer

CALL = re.compile(r"^calc\((\d+)\+(\d+)\)$")


class Calculator:
    """Answers an assistant turn ``calc(a+b)`` with an ``ipython`` result, for maths prompts."""

    def __init__(self, cfg=None, services=None):
        self.services = services

    def applies(self, prompt: SFTRow) -> bool:
        return prompt.capability == "math"

    def respond(self, conversation: list[ChatMessage]) -> list[ChatMessage] | None:
        match = CALL.match(conversation[-1].content.strip())
        if conversation[-1].role != "assistant" or not match:
            return None
        return [ChatMessage("ipython", str(int(match[1]) + int(match[2])), name="calc")]


class CalculatorPlugin:
    @hookimpl
    def herd_register_environments(self, register):
        register("calculator", Calculator, capability="math", description="answers calc(a+b) turns")


class ScriptedModel:
    """First turn: a calculator call in one sample, a wrong guess in the other; after a
    tool result: that result. Records every call's ``n``."""

    def __init__(self, always_call: bool = False):
        self.calls: list[int] = []
        self.always_call = always_call

    def generate(self, prompts, params):
        raise AssertionError("rollouts use chat")

    def chat(self, conversations, params: SamplingParams):
        self.calls.append(params.n)
        out = []
        for conversation in conversations:
            last = conversation[-1]
            if last.role == "ipython" and not self.always_call:
                out.append([ChatReply(ChatMessage("assistant", last.content))] * params.n)
            else:
                replies = [ChatReply(ChatMessage("assistant", "calc(2+3)"), "end_of_message"),
                           ChatReply(ChatMessage("assistant", "calc(2+3)" if self.always_call else "6"))]
                out.append(replies[: params.n])
        return out


class Rewards:
    def score(self, prompt_messages, responses):
        return [float(len(turns)) for turns in responses]


class Verifier:
    def verdicts(self, rows):
        return [s[0].value > 0 if s[0].value is not None else None for s in ExactAnswer().score(rows)]


@pytest.fixture
def environments(empty_registry, tmp_path):
    app = App.create(extra_plugins={"calculator": CalculatorPlugin()}, registry_path=empty_registry,
                     entry_points=False)
    ctx = StageContext(name="posttrain", config=app.config, workdir=tmp_path, inputs={}, registry=app.registry,
                       plugins=list(app.plugins.active), log=logging.getLogger("test"), resuming=False,
                       run_dir=tmp_path, profile="quick")
    return Environments(ctx, [], Services(ctx=ctx))


def _math_prompt():
    return Prompt("m1", [ChatMessage("user", "What is 2 plus 3?")], "math", "add", {"answer": "5"})


def test_a_registered_environment_makes_a_three_turn_trajectory_that_rs_keeps_and_dpo_pairs(environments, chat):
    model = ScriptedModel()
    cfg = PosttrainConfig(samples_per_prompt=2, rollout_max_steps=4)
    ledger = Ledger()
    judged = sample_and_judge([_math_prompt()], Sampler(model, {}, environments, cfg), Rewards(), Verifier(),
                              ledger, "rejection_sampling", seed=1)
    assert model.calls == [2, 1]  # K first turns, then one continuation of the trajectory the calculator answered
    tool_use, direct = judged[0].trajectories
    assert [(m.role, m.content) for m in tool_use.turns] == [("assistant", "calc(2+3)"), ("ipython", "5"),
                                                              ("assistant", "5")]
    assert tool_use.finish == "end_of_turn" and [m.content for m in direct.turns] == ["6"]
    assert judged[0].verdicts == [True, False]

    rows = rejection_sample(judged, ledger, round_no=1)
    assert len(rows) == 1 and rows[0].messages == tool_use.messages
    pairs = online_pairs(judged, ledger, round_no=1, similarity=0.9)
    assert len(pairs) == 1 and pairs[0].responses == [tool_use.turns, direct.turns] and pairs[0].margin == 3
    assert not ledger.drops

    # Only the model's tokens are trained on: the calculator's result is context.
    encoded = chat.encode_turns(pairs[0].prompt, pairs[0].responses[0])
    result_ids = chat.encode_text("5")
    trained = [i for i, keep in zip(encoded.ids, encoded.loss) if keep]
    context = [i for i, keep in zip(encoded.ids, encoded.loss) if not keep]
    assert chat.encode_text("calc(2+3)")[0] in trained and result_ids[0] in context and result_ids[0] in trained


def test_environments_apply_per_prompt(environments):
    general = Prompt("g", [ChatMessage("user", "Say hi")], "general", "chat")
    assert environments.for_prompt(general) == [] and len(environments.for_prompt(_math_prompt())) == 1


def test_a_rollout_still_answered_at_the_cap_ends_step_cap_on_a_model_turn(environments):
    model = ScriptedModel(always_call=True)
    cfg = PosttrainConfig(samples_per_prompt=1, rollout_max_steps=2)
    judged = sample_and_judge([_math_prompt()], Sampler(model, {}, environments, cfg), Rewards(), Verifier(),
                              Ledger(), "rs", seed=1)
    trajectory = judged[0].trajectories[0]
    assert trajectory.finish == "step_cap" and model.calls == [1, 1]
    assert [m.role for m in trajectory.turns] == ["assistant", "ipython", "assistant"]


def test_sampling_seeds_differ_per_turn_and_repeat_per_seed(environments):
    class SeedRecorder(ScriptedModel):
        def __init__(self):
            super().__init__()
            self.seeds = []

        def chat(self, conversations, params):
            self.seeds.append(params.seed)
            return super().chat(conversations, params)

    runs = []
    for _ in range(2):
        model = SeedRecorder()
        sample_and_judge([_math_prompt()], Sampler(model, {}, environments, PosttrainConfig(samples_per_prompt=2)),
                         Rewards(), Verifier(), Ledger(), "rs", seed=11)
        runs.append(model.seeds)
    assert runs[0] == runs[1] and runs[0][0] == 11 and len(set(runs[0])) == 2
