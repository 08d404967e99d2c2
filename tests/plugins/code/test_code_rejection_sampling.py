"""Rejection sampling for code prompts end to end: real problems, a real sandbox, the real
judge. The only double is the model (``ScriptedModel``)."""

from __future__ import annotations

import json

import pytest

from herd.core.records import PreferenceRow, SFTRow
from herd.plugins.code import prompts
from herd.plugins.code.judge import CODE_TESTS
from herd.plugins.code.rejection_sampling import CodeRejectionSampling
from herd.plugins.code.settings import CodeRejectionSamplingConfig

PROBLEMS = [
    {"task_id": "t/double", "prompt": 'def double(x):\n    """Return 2 * x."""\n', "entry_point": "double",
     "test": "def check(candidate):\n    assert candidate(3) == 6\n"},
    {"task_id": "t/neg", "prompt": 'def neg(x):\n    """Return -x."""\n', "entry_point": "neg",
     "test": "def check(candidate):\n    assert candidate(3) == -3\n"},
    {"task_id": "t/hard", "prompt": 'def hard(x):\n    """Return x squared."""\n', "entry_point": "hard",
     "test": "def check(candidate):\n    assert candidate(3) == 9\n"},
]


def fenced(code: str) -> str:
    return f"```python\n{code}```"


DOUBLE_OK = fenced('def double(x):\n    """Twice x."""\n    return 2 * x\n')
DOUBLE_UNDOCUMENTED = fenced("def double(x):\n    return x + x\n")
DOUBLE_WRONG = fenced('def double(x):\n    """Twice x."""\n    return x\n')
NEG_WRONG = fenced('def neg(x):\n    """Minus x."""\n    return x\n')
NEG_FIXED = fenced('def neg(x):\n    """Minus x."""\n    return -x\n')
HARD_WRONG = fenced('def hard(x):\n    """Square."""\n    return 2 * x\n')

RULES = [
    (["did not pass review", "def neg"], [NEG_FIXED]),
    (["did not pass review", "def hard"], [HARD_WRONG]),
    (["def double"], [DOUBLE_WRONG, DOUBLE_UNDOCUMENTED, DOUBLE_OK]),
    (["def neg"], [NEG_WRONG]),
    (["def hard"], [HARD_WRONG]),
]


def run(tmp_path, sandbox, model, make_services, **overrides):
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    settings = {"samples_per_prompt": 3, "max_revisions": 2, "timeout_s": 5, **overrides}
    cfg = CodeRejectionSamplingConfig(problems=str(problems), **settings)
    synth = CodeRejectionSampling(cfg, make_services(model, sandbox))
    return synth, list(synth.synthesize(10, tmp_path / "out"))


def test_best_correct_stylish_sample_is_kept_and_hard_prompts_are_revised(tmp_path, isolated_sandbox, scripted_model, make_services):
    model = scripted_model(RULES)
    synth, out = run(tmp_path, isolated_sandbox, model, make_services)
    rows = {r.id.split("-")[-1]: r for r in out if isinstance(r, SFTRow)}
    assert set(rows) == {"t/double", "t/neg"}
    # double: of a wrong, an undocumented and a documented correct sample, the documented one.
    assert "2 * x" in rows["t/double"].messages[-1].content
    assert rows["t/double"].metadata["outcome"] == "first_pass"
    # neg: every sample failed; the revision got the failing answer and the test failure.
    assert rows["t/neg"].metadata["outcome"] == "revised" and "return -x" in rows["t/neg"].messages[-1].content
    revision = next(p for p in model.prompts if "did not pass review" in p and "def neg" in p)
    assert "return x" in revision and "AssertionError" in revision
    # The SFT row keeps the plain request; the system prompt steered sampling only.
    assert [m.role for m in rows["t/neg"].messages] == ["user", "assistant"]
    assert rows["t/neg"].metadata[CODE_TESTS]["entry_point"] == "neg"
    assert synth.counts == {"generator": "policy", "prompts": 3, "samples": 9, "samples_correct": 2,
                            "first_pass": 1, "revised": 1, "unsolved": 1}
    saved = json.loads((tmp_path / "out" / "code_rejection_sampling.json").read_text())
    assert saved == synth.counts
    dropped_file = tmp_path / "out" / "code_rejection_sampling_dropped.jsonl"
    dropped = [json.loads(x) for x in dropped_file.read_text().splitlines()]
    assert [(d["task_id"], d["reason"], d["turns"]) for d in dropped] == [("t/hard", "unsolved_after_revisions", 3)]
    assert "AssertionError" in dropped[0]["review"]


def test_system_prompts_rotate_and_preferences_pair_kept_with_failed(tmp_path, isolated_sandbox, scripted_model, make_services):
    model = scripted_model(RULES)
    _, out = run(tmp_path, isolated_sandbox, model, make_services)
    firsts = [p for p in model.prompts if "did not pass review" not in p]
    used = [next(name for name, text in prompts.SYSTEM_PROMPTS.items() if text in p) for p in firsts]
    assert sorted(used) == sorted(prompts.SYSTEM_PROMPTS)
    prefs = [r for r in out if isinstance(r, PreferenceRow)]
    assert {p.id for p in prefs} == {"code_rejection_sampling-t/double-pref", "code_rejection_sampling-t/neg-pref"}
    double = next(p for p in prefs if "double" in p.id)
    assert double.margin == 3 and "return x\n" in double.responses[1][0].content and "2 * x" in double.responses[0][0].content


def test_min_style_turns_correct_but_unreadable_answers_into_revisions(tmp_path, isolated_sandbox, scripted_model, make_services):
    rules = [(["did not pass review", "def double"], [DOUBLE_OK]), (["def double"], [DOUBLE_UNDOCUMENTED]),
             (["def neg"], [NEG_FIXED]), (["def hard"], [HARD_WRONG])]
    synth, _ = run(tmp_path, isolated_sandbox, scripted_model(rules), make_services, min_style=1.0, max_revisions=1)
    assert (synth.counts["first_pass"], synth.counts["revised"], synth.counts["unsolved"]) == (1, 1, 1)


@pytest.mark.slow
def test_through_posttrains_hooks(tmp_path, scripted_model):
    """Post-training builds the synthesizer and the verifier from the registry; the rows the
    synthesizer keeps pass the verifier again, and a wrong answer to them does not."""
    import logging

    from herd.core.app import App
    from herd.core.pipeline import StageContext
    from herd.core.records import ChatMessage
    from herd.core.services import Services
    from herd.plugins.posttrain.judging import Verifiers
    from herd.plugins.posttrain.round_data import synthesize

    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    app = App.create(plugins=["code"], profile="quick", overrides=[
        f"synthesizers.code_rejection_sampling.problems={json.dumps(str(problems))}",
        "synthesizers.code_rejection_sampling.samples_per_prompt=3"])
    ctx = StageContext(name="posttrain", config=app.config, workdir=tmp_path, inputs={}, registry=app.registry,
                       plugins=["code"], log=logging.getLogger("test"), resuming=False, run_dir=tmp_path,
                       profile="quick")
    services = Services(generator=scripted_model(RULES), ctx=ctx)
    cfg = app.config.section("posttrain")
    cfg.synthesizers = ["code_rejection_sampling"]
    sft, prefs = synthesize(ctx, cfg, services, 1, tmp_path / "round_1")
    assert {r.capability for r in sft} == {"code"} and len(sft) == 2 and len(prefs) == 2
    verifiers = Verifiers(ctx, ["code_quality"], services)
    wrong = SFTRow(sft[0].id, sft[0].messages[:-1] + [ChatMessage("assistant", NEG_WRONG)], capability="code",
                   metadata=sft[0].metadata)
    assert verifiers.verdicts([sft[0], sft[1], wrong]) == [True, True, False]
