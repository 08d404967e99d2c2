"""The math_python rollout environment: which turns it runs, what it answers (with a real
sandbox), and a whole rollout whose final answer the verifier judges after the run."""

from __future__ import annotations

import pytest

from herd.core.protocols import ExecutionResult
from herd.core.records import ChatMessage, SFTRow, ToolCall
from herd.plugins.math.config import MathPythonConfig
from herd.plugins.math.environment import MathPythonEnvironment
from herd.plugins.math.judges import MathAnswer
from herd.plugins.math.python_exec import outcome, unexecuted_code

QUESTION = "Solve for x: 7x + 10 = 87.\nSolve step by step. End with #### and the answer."
CODE_TURN = "Subtract, then divide.\n```python\nrest = 87 - 10\nprint(rest)\nprint(rest // 7)\n```"


def _assistant(text: str) -> ChatMessage:
    return ChatMessage("assistant", text)


def test_finds_only_code_that_nothing_answers():
    assert unexecuted_code(_assistant(CODE_TURN)) == "rest = 87 - 10\nprint(rest)\nprint(rest // 7)"
    assert unexecuted_code(_assistant("```python\nprint(2 ** 10)")) == "print(2 ** 10)"  # open at the end
    assert unexecuted_code(_assistant("```py\nprint(1)\n```\nIt prints 1.\n#### 1")) is None  # answered
    assert unexecuted_code(_assistant("```python\nprint(1)\n```\n```output\n1\n```")) is None
    assert unexecuted_code(_assistant("12 * 3 = 36\n#### 36")) is None
    assert unexecuted_code(_assistant("```python\n\n```")) is None
    assert unexecuted_code(ChatMessage("user", CODE_TURN)) is None
    two = "```python\nprint(1)\n```\n1\n```python\nprint(2)\n```"
    assert unexecuted_code(_assistant(two)) == "print(2)"
    call = ChatMessage("assistant", "", tool_calls=[ToolCall("code_interpreter", {"code": "print(6 * 7)"})])
    assert unexecuted_code(call) == "print(6 * 7)"
    wrapped = ChatMessage("assistant", "", tool_calls=[ToolCall("code_interpreter", {"code": CODE_TURN})])
    assert unexecuted_code(wrapped) == "rest = 87 - 10\nprint(rest)\nprint(rest // 7)"


def test_outcome_text_is_bounded_and_says_what_went_wrong():
    flood = outcome(ExecutionResult("output_limit", None, "x" * 50_000, "", 0.5), max_chars=100, timeout_s=2)
    assert flood.text.startswith("Error: the program was stopped: it printed more than the output limit")
    assert len(flood.text) < 300 and not flood.ok
    loop = outcome(ExecutionResult("timeout", None, "", "", 2.0), max_chars=100, timeout_s=2)
    assert loop.text == "Error: the program was stopped after 2 s: it ran past the time limit"
    crash = outcome(ExecutionResult("error", 1, "", "Traceback\n" + "  frame\n" * 100 + "ZeroDivisionError: x", 0.1),
                    max_chars=100)
    assert crash.text.startswith("Error: the program exited with status 1")
    assert crash.text.endswith("ZeroDivisionError: x") and len(crash.text) < 300
    assert outcome(ExecutionResult("ok", 0, "", "", 0.1), max_chars=100).text == "(no output)"


def test_applies_to_math_prompts_only(make_services):
    env = MathPythonEnvironment(MathPythonConfig(), make_services())
    assert env.applies(SFTRow("m", [ChatMessage("user", QUESTION)], capability="math"))
    assert not env.applies(SFTRow("c", [ChatMessage("user", "Write a function.")], capability="code"))
    assert env.respond([ChatMessage("user", QUESTION), _assistant("77 / 7 = 11\n#### 11")]) is None
    assert env.respond([]) is None


@pytest.mark.slow
def test_runs_the_code_and_the_verifier_judges_the_answer_after_it(make_services, isolated_sandbox):
    env = MathPythonEnvironment(MathPythonConfig(timeout_s=2), make_services(sandbox=isolated_sandbox))
    conversation = [ChatMessage("user", QUESTION), _assistant(CODE_TURN)]
    answer = env.respond(conversation)
    assert [(m.role, m.content, m.name) for m in answer] == [("ipython", "77\n11", "code_interpreter")]
    final = _assistant("The program printed 77 and 11, so x = 11.\n#### 11")
    conversation += answer + [final]
    assert env.respond(conversation) is None  # no code left: the rollout ends
    row = SFTRow("m", conversation, capability="math", metadata={"reference": "11"})
    assert MathAnswer().score([row])[0][0].value == 1.0
    # the code turn alone holds no answer: a rollout cut there is judged wrong
    cut = SFTRow("m", conversation[:2], capability="math", metadata={"reference": "11"})
    assert MathAnswer().score([cut])[0][0].value == 0.0


@pytest.mark.slow
def test_loops_floods_and_crashes_are_answered_with_an_error(make_services, isolated_sandbox):
    env = MathPythonEnvironment(MathPythonConfig(timeout_s=1, max_output_chars=200),
                                make_services(sandbox=isolated_sandbox))

    def answer(code: str) -> str:
        replies = env.respond([ChatMessage("user", QUESTION), _assistant(f"```python\n{code}\n```")])
        assert len(replies) == 1 and replies[0].role == "ipython"
        return replies[0].content

    assert answer("while True:\n    pass").startswith("Error: the program was stopped after 1 s")
    flood = answer("while True:\n    print('x' * 1000)")
    assert flood.startswith("Error: the program was stopped: it printed more than the output limit")
    assert len(flood) < 400
    crash = answer("print(1 / 0)")
    assert crash.startswith("Error: the program exited with status 1") and "ZeroDivisionError" in crash


@pytest.mark.slow
def test_a_posttrain_rollout_goes_through_the_environment(make_services, isolated_sandbox, scripted):
    from herd.core.protocols import SamplingParams
    from herd.plugins.posttrain.rollouts import Environments, Prompt, rollouts

    def script(prompt: str) -> str:
        if "ipython" in prompt:  # the program's output is in the conversation
            return "The program printed 77 and 11.\n#### 11"
        return CODE_TURN

    env = MathPythonEnvironment(MathPythonConfig(timeout_s=2), make_services(sandbox=isolated_sandbox))
    prompt = Prompt("m", [ChatMessage("user", QUESTION)], "math", "algebra", {"reference": "11"})
    drops: list[tuple[str, str]] = []
    sampled = rollouts([prompt], lambda p: scripted(script), Environments.of([("math_python", env)]),
                       SamplingParams(temperature=0.0, max_tokens=64, n=1, seed=0), 4, lambda p: p.messages,
                       lambda i, r: drops.append((i, r)))
    trajectory = sampled[0].trajectories[0]
    assert [m.role for m in trajectory.turns] == ["assistant", "ipython", "assistant"]
    assert trajectory.turns[1].content == "77\n11" and trajectory.finish == "end_of_turn" and not drops
    row = prompt.as_row(trajectory.turns)
    assert MathAnswer().score([row])[0][0].value == 1.0
