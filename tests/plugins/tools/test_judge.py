"""The ``tool_use`` verifier: trajectories whose calls ran and whose answer states the
results pass; errors, malformed calls and answers that ignore the results fail; rows
without tools are not its business. Every template's own trajectory passes."""

import random

import pytest

from herd.core.app import App
from herd.core.records import ChatMessage, SFTRow, ToolCall
from herd.core.services import Services
from herd.plugins.tools.judge import ToolUseVerifier
from herd.plugins.tools.synthesis import ToolUseSynthesizer
from herd.plugins.tools.tasks import irrelevant_tool, nested, no_call, parallel_custom_maths, single_builtin_maths

SYSTEM = ChatMessage("system", "Environment: ipython\nTools: wolfram_alpha")
USER = ChatMessage("user", "Derivative of x^2 + 3*x?")
CALL = ChatMessage("assistant", "", tool_calls=[ToolCall("wolfram_alpha", {"query": "derivative of x^2 + 3*x"})])


def verdict(*turns, capability="tool_use"):
    row = SFTRow("r", [SYSTEM, USER, *turns], capability=capability)
    return ToolUseVerifier().score([row])[0][0]


@pytest.mark.parametrize("turns, value, reason", [
    ([CALL, ChatMessage("ipython", "2*x + 3"), ChatMessage("assistant", "It is 2*x + 3.")], 1.0, ""),
    ([CALL, ChatMessage("ipython", "2*x + 3"), ChatMessage("assistant", "It is 5.")], 0.0,
     "does not state the tool result '2*x + 3'"),
    ([CALL, ChatMessage("ipython", "Error: invalid arguments"), ChatMessage("assistant", "Sorry.")], 0.0,
     "a tool answered with an error"),
    ([ChatMessage("assistant", '{"name": "wolfram_alpha", "parameters": {'),
      ChatMessage("ipython", "Error: malformed tool call (json): ..."), ChatMessage("assistant", "x")], 0.0,
     "a tool answered with an error: Error: malformed tool call"),
    ([ChatMessage("assistant", "It is 2*x + 3.")], 1.0, ""),
    ([ChatMessage("assistant", '[wolfram_alpha(query="x")]')], 0.0, "the answer calls a tool no one ran"),
    ([CALL], 0.0, "the answer calls a tool no one ran"),
    ([CALL, ChatMessage("ipython", "2*x + 3")], 0.0, "does not end with an answer"),
])
def test_trajectories_pass_only_when_their_calls_ran_and_the_answer_uses_them(turns, value, reason):
    score = verdict(*turns)
    assert score.value == value and reason in score.reason


def test_rows_without_tools_are_not_judged():
    row = SFTRow("r", [ChatMessage("user", "hi"), ChatMessage("assistant", "hello")], capability="general")
    assert ToolUseVerifier().score([row])[0][0].value is None


def test_every_template_trajectory_passes(tmp_path):
    app = App.create(plugins=["tools"], entry_points=False)
    synthesizer = ToolUseSynthesizer(None, Services.for_app(app, workdir=tmp_path))
    rng = random.Random(3)
    drafts = [t(rng, i) for i, t in enumerate([single_builtin_maths, parallel_custom_maths, nested, no_call,
                                                irrelevant_tool] * 2)]
    kept, dropped = synthesizer.execute(drafts)
    assert not dropped and len(kept) == 10
    assert [s[0].value for s in ToolUseVerifier().score(kept)] == [1.0] * 10

