"""The ``code_problems`` synthesizer: the plugin's training problems as SFT and preference
rows, each canonical solution verified in the sandbox first, every drop with its reason."""

from __future__ import annotations

import json

from herd.core.plugins import load_plugins
from herd.core.records import PreferenceRow, SFTRow
from herd.plugins.code.answers import CODE_TESTS
from herd.plugins.code.humaneval import program_for, read_problems
from herd.plugins.code.judge import CodeJudge
from herd.plugins.code.problem_rows import TrainingProblems, wrong_answer
from herd.plugins.code.settings import HELDOUT_PROBLEMS, TRAIN_PROBLEMS, CodeJudgeConfig, TrainingProblemsConfig


def _problem(name: str, body: str, doc: str, checks: str, solution: bool = True, arg: str = "x") -> dict:
    record = {"task_id": f"t/{name}", "prompt": f'def {name}({arg}):\n    """{doc}"""\n',
              "test": f"def check(candidate):\n{checks}", "entry_point": name}
    if solution:
        record["canonical_solution"] = body
    return record


def _write(path, records, extra_lines=()):
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + "".join(extra_lines), encoding="utf-8")
    return path


def test_registered_as_a_default_code_synthesizer():
    component = load_plugins(["code"], entry_points=False).registry.get("synthesizers", "code_problems")
    assert component.options["capability"] == "code"
    assert component.options.get("default", True)  # post-training runs it without being asked


def test_rows_are_verified_and_every_drop_has_a_reason(tmp_path, isolated_sandbox, make_services):
    problems = _write(tmp_path / "problems.jsonl", [
        _problem("add_1", "    return x + 1\n", "Return x plus 1.", "    assert candidate(1) == 2\n"),
        _problem("shout", "    return s.upper() + '!'\n", "Return s shouted.", "    assert candidate('a') == 'A!'\n",
                 arg="s"),
        _problem("wrong", "    return x - 1\n", "Return x plus 1.", "    assert candidate(1) == 2\n"),
        _problem("unsolved", "", "Return x.", "    assert candidate(1) == 1\n", solution=False),
    ], extra_lines=["{not json\n"])
    synth = TrainingProblems(TrainingProblemsConfig(problems=str(problems), timeout_s=5),
                             make_services(sandbox=isolated_sandbox))
    rows = list(synth.synthesize(10, tmp_path / "work"))
    sft = [r for r in rows if isinstance(r, SFTRow)]
    prefs = [r for r in rows if isinstance(r, PreferenceRow)]

    assert sorted(r.metadata[CODE_TESTS]["entry_point"] for r in sft) == ["add_1", "shout"]
    add = next(r for r in sft if r.id.endswith("add_1"))
    assert [m.role for m in add.messages] == ["user", "assistant"]
    assert add.messages[0].content.startswith("def add_1(x):") and add.messages[1].content == "    return x + 1\n"
    assert add.capability == "code" and add.language == "python"
    # Each kept problem's canonical answer is preferred over a clearly different one that fails.
    assert len(prefs) == 2 and all(p.margin == 3 and p.capability == "code" for p in prefs)
    for pref in prefs:
        assert pref.responses[0] != pref.responses[1]
        assert pref.metadata["rejected_because"]  # the sandbox's failure

    dropped = [json.loads(line) for line in (tmp_path / "work" / "code_problems_dropped.jsonl").read_text().splitlines()]
    reasons = {d["task_id"]: d["reason"] for d in dropped}
    assert reasons["t/wrong"].startswith("canonical_failed: ") and "AssertionError" in reasons["t/wrong"]
    assert reasons["t/unsolved"] == "no_canonical_solution"
    assert any(r.startswith("bad_problem: ") and "invalid JSON" in r for r in reasons.values())
    counts = json.loads((tmp_path / "work" / "code_problems.json").read_text())
    assert counts["sft_rows"] == 2 and counts["preference_rows"] == 2 and counts["dropped"] == 3
    assert counts["dropped.canonical_failed"] == 1 and counts["dropped.no_canonical_solution"] == 1

    # The rows carry the tests post-training's verifier runs: the canonical answer passes.
    verdicts = CodeJudge(CodeJudgeConfig(timeout_s=5), make_services(sandbox=isolated_sandbox)).verdicts(sft)
    assert [v.correct for v in verdicts] == [1.0, 1.0]


def test_budget_limits_the_problems_and_spans_the_families(tmp_path, isolated_sandbox, make_services):
    synth = TrainingProblems(TrainingProblemsConfig(timeout_s=5), make_services(sandbox=isolated_sandbox))
    rows = list(synth.synthesize(12, tmp_path))
    sft = [r for r in rows if isinstance(r, SFTRow)]
    assert len(sft) == 12 and synth.counts["dropped"] == 0  # the shipped solutions all pass
    families = {r.metadata[CODE_TESTS]["entry_point"].rstrip("0123456789").rstrip("_") for r in sft}
    assert len(families) >= 4
    assert list(synth.synthesize(0, tmp_path / "none")) == []


def test_wrong_answer_is_clearly_different_from_the_right_one():
    import random

    problems = sorted(read_problems(TRAIN_PROBLEMS).problems.values(), key=lambda p: p.task_id)
    add_1 = next(p for p in problems if p.entry_point == "add_1")
    add_2 = next(p for p in problems if p.entry_point == "add_2")
    # x + 1 versus x + 2 would be dropped by the reward model as near-identical.
    assert wrong_answer(add_1, [add_1, add_2], random.Random(0)) is None
    wrong = wrong_answer(add_1, problems, random.Random(0))
    assert wrong is not None and wrong != add_1.canonical_solution


def test_training_and_heldout_problems_do_not_leak():
    train = read_problems(TRAIN_PROBLEMS).problems.values()
    heldout = read_problems(HELDOUT_PROBLEMS).problems.values()
    assert len(train) > 100
    assert not {p.task_id.split("/")[-1] for p in train} & {p.task_id.split("/")[-1] for p in heldout}
    assert not {p.entry_point for p in train} & {p.entry_point for p in heldout}
    assert not {p.prompt for p in train} & {p.prompt for p in heldout}
    assert not {program_for(p, "") for p in train} & {program_for(p, "") for p in heldout}
