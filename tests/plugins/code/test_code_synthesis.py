"""The execution-feedback synthesizer end to end, with real static analysis and a real
sandbox. The only double is the *model*: ``ScriptedModel`` (conftest) returns fixed outputs chosen
by what each prompt asks, like a deterministic LLM would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from herd.core.errors import ConfigError
from herd.core.protocols import Generator
from herd.plugins.code.settings import ExecutionFeedbackConfig
from herd.plugins.code.synthesis import ExecutionFeedbackSynthesizer, static_check, TARGETS
from herd.lib.sandbox.choose import available_backend, open_sandbox
from herd.lib.sandbox.config import SandboxConfig

SEEDS = '''
def total(a, b):
    return a + b


def loud(text):
    return text.upper()


def half(x):
    return x // 2
'''


def answer(solution: str, tests: str, fence: str = "python") -> str:
    return f"Step by step: we do what is asked.\n```{fence}\n{solution}\n```\nTests:\n```{fence}\n{tests}\n```\n"


ADD = answer("def add(a, b):\n    return a + b", "def test_add():\n    assert add(1, 2) == 3\n    assert add(-1, 1) == 0")
SHOUT_BUGGY = answer("def shout(s):\n    return s.lower()", "def test_shout():\n    assert shout('hi') == 'HI'")
SHOUT = answer("def shout(s):\n    return s.upper()", "def test_shout():\n    assert shout('hi') == 'HI'")
HALVE_BROKEN = answer("def halve(x:\n    return x // 2", "assert halve(4) == 2")

# (substrings the prompt must contain, the model's reply); the first match wins.
RULES = [
    (["failed its checks", "shout(s)"], SHOUT),
    (["failed its checks", "halve(x)"], HALVE_BROKEN),  # never repaired
    (["failed its checks", "into perl"], "I cannot."),
    (["snippet", "def total"], "Write add(a, b) returning the sum of a and b."),
    (["snippet", "def loud"], "Write shout(s) returning s in upper case."),
    (["snippet", "def half"], "Write halve(x) returning x // 2."),
    (["Solve", "add(a, b)"], ADD),
    (["Solve", "shout(s)"], SHOUT_BUGGY),
    (["Solve", "halve(x)"], HALVE_BROKEN),
    (["into perl", "def add"], answer("sub add { my ($x, $y) = @_; return $x + $y; }",
                                      "die 'add' unless add(1, 2) == 3;", "perl")),
    (["into perl", "def shout"], answer("sub shout { my ($s) = @_; return lc($s); }",
                                        "die 'shout' unless shout('hi') eq 'HI';", "perl")),
    (["into lua", "def add"], answer("function add(a, b)\n  return a + b\nend", "assert(add(1, 2) == 3)", "lua")),
    (["into lua", "def shout"], answer("function shout(s)\n  return string.upper(s)\nend",
                                       "assert(shout('hi') == 'HI')", "lua")),
    (["Explain what this Python code does", "def add"], "add(a, b) returns the sum of a and b."),
    (["Explain what this Python code does", "def shout"], "shout(s) returns s."),
    (["explanation describes", "sum of a and b"], "```python\ndef add(a, b):\n    return b + a\n```"),
    (["explanation describes", "returns s."], "```python\ndef shout(s):\n    return s\n```"),
    (["behave the same", "return b + a"], "YES, addition commutes."),
    (["behave the same", "return s\n"], "NO, case is not changed."),
]


def synthesize(tmp_path: Path, sandbox, scripted_model, translate_to: list[str], budget: int = 10, *, make_services):
    seeds = tmp_path / "seeds.py"
    seeds.write_text(SEEDS)
    model = scripted_model([(needles, [reply]) for needles, reply in RULES])
    assert isinstance(model, Generator)
    cfg = ExecutionFeedbackConfig(seed_paths=[str(seeds)], max_revisions=1, translate_to=translate_to, timeout_s=5)
    synth = ExecutionFeedbackSynthesizer(cfg, make_services(model, sandbox))
    rows = list(synth.synthesize(budget, tmp_path / "out"))
    return synth, rows, model


def test_feedback_loop_keeps_first_time_and_repaired_answers(tmp_path, isolated_sandbox, scripted_model, make_services):
    synth, rows, model = synthesize(tmp_path, isolated_sandbox, scripted_model, translate_to=["perl"], make_services=make_services)
    counts = json.loads((tmp_path / "out" / "code_execution_feedback.json").read_text())
    assert counts["seeds"] == 3
    assert (counts["execution_feedback.correct_first"], counts["execution_feedback.repaired"],
            counts["execution_feedback.dropped"]) == (1, 1, 1)
    feedback_rows = {r.metadata["outcome"]: r for r in rows if r.category == "execution_feedback"}
    assert set(feedback_rows) == {"first_try", "repaired"}
    assert "add(a, b)" in feedback_rows["first_try"].messages[0].content
    assert "s.upper()" in feedback_rows["repaired"].messages[1].content
    assert feedback_rows["repaired"].metadata["turns"] == 2
    # The revision prompt carried the problem, the failing answer and the real error.
    revision = next(p for p in model.prompts if "failed its checks" in p and "shout(s)" in p)
    assert "s.lower()" in revision and "AssertionError" in revision
    # The never-fixed answer is dropped with static-analysis feedback naming a position.
    dropped = [json.loads(l) for l in (tmp_path / "out" / "code_execution_feedback_dropped.jsonl").read_text().splitlines()]
    halve = next(d for d in dropped if d["kind"] == "execution_feedback")
    assert "line 1, column" in halve["reason"] and "seeds.py:10" in halve["where"]


def test_translation_keeps_only_passing_translations(tmp_path, isolated_sandbox, scripted_model, make_services):
    _, rows, _ = synthesize(tmp_path, isolated_sandbox, scripted_model, translate_to=["perl"], make_services=make_services)
    translations = [r for r in rows if r.category == "translation"]
    # add's Perl passes; shout's lowercases (tests fail) and its revision has no code.
    assert [(r.language, r.metadata["seed"].split("/")[-1]) for r in translations] == [("perl", "seeds.py:2")]
    assert "sub add" in translations[0].messages[1].content


def test_back_translation_needs_judge_and_tests_to_agree(tmp_path, isolated_sandbox, scripted_model, make_services):
    synth, rows, _ = synthesize(tmp_path, isolated_sandbox, scripted_model, translate_to=[], make_services=make_services)
    explained = [r for r in rows if r.category == "back_translation"]
    assert len(explained) == 1 and "sum of a and b" in explained[0].messages[1].content
    assert synth.counts["back_translation.faithful"] == 1
    assert synth.counts["back_translation.unfaithful"] == 1


@pytest.mark.docker
def test_translation_to_lua_runs_in_the_docker_image(tmp_path, scripted_model, make_services):
    cfg = SandboxConfig(timeout_s=5, pool_size=2)
    if available_backend(cfg) != "docker":
        pytest.skip("needs the Docker daemon and the herd-sandbox image (Lua is only in the image)")
    with open_sandbox(cfg, "docker") as box:
        _, rows, _ = synthesize(tmp_path, box, scripted_model, translate_to=["lua"], make_services=make_services)
    lua = [r for r in rows if r.language == "lua"]
    assert sorted(r.metadata["seed"].split("/")[-1] for r in lua) == ["seeds.py:2", "seeds.py:6"]


def test_static_check_explains_what_is_missing():
    python = TARGETS["python"]
    assert "two fenced" in static_check("just prose", python).feedback
    no_asserts = static_check(answer("def f():\n    return 1", "print(f())"), python)
    assert not no_asserts.passed and "no assertions" in no_asserts.feedback
    undefined = static_check(answer("def f():\n    return g()", "assert f() == 1"), python)
    assert not undefined.passed and "undefined name 'g'" in undefined.feedback


def test_missing_generator_is_a_config_error(tmp_path, make_services):
    synth = ExecutionFeedbackSynthesizer(ExecutionFeedbackConfig(), make_services())
    with pytest.raises(ConfigError, match="synthesizer 'code_execution_feedback' needs a generation backend"):
        list(synth.synthesize(1, tmp_path))
