"""Solutions that interleave text and Python: the program computes the template's steps
exactly, runs in a real sandbox, and the rows are the same every time."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from herd.core.records import SFTRow
from herd.plugins.math.config import MathSynthConfig
from herd.plugins.math.interleaved import code_solution
from herd.plugins.math.problems import computations, generate
from herd.plugins.math.steps import check_solution
from herd.plugins.math.synthesis import MathSynthesizer
from herd.plugins.math.verifier import AnswerVerifier


def test_each_program_prints_its_steps_values_exactly():
    problems = generate(26, 3, "train")  # two of every template, fractions among them
    assert any("/" in p.answer for p in problems)
    for problem in problems:
        solution = code_solution(problem)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(solution.code, {})  # our own generated arithmetic, not a model's code
        assert tuple(printed.getvalue().split()) == solution.values == tuple(v for _, v in computations(problem))
        assert solution.values[-1] == problem.answer
        assert "= " in solution.code and solution.code.endswith(")")
        if len(solution.values) > 1:
            second = solution.code.splitlines()[-2]
            assert second.startswith("b = ") and "a" in second[4:]  # step 2 computes from step 1


def row_values(row: SFTRow) -> tuple[str, ...]:
    problem = next(p for p in generate(8, 0, "train") if f"{p.id}-code" == row.id)
    return tuple(v for _, v in computations(problem))


@pytest.mark.slow
def test_interleaved_rows_ran_in_the_sandbox_and_pass_the_checkers(tmp_path, make_services, isolated_sandbox):
    cfg = MathSynthConfig(mistakes=0.0, code_share=1.0)
    rows = list(MathSynthesizer(cfg, make_services(sandbox=isolated_sandbox)).synthesize(8, tmp_path / "a"))
    code = [r for r in rows if isinstance(r, SFTRow) and r.source == "math_code"]
    assert len(code) == 8
    verifier = AnswerVerifier()
    for row in code:
        user, call, output, final = row.messages
        assert (user.role, call.role, output.role, final.role) == ("user", "assistant", "ipython", "assistant")
        assert "```python\n" in call.content and call.content.endswith("```")
        assert output.content.split() == list(row_values(row))
        # the last turn states the printed values, not the expressions the program computed
        assert all(value in final.content for value in output.content.split())
        assert "<<" not in final.content
        assert verifier.verify(row.metadata["reference"], final.content).correct
        assert check_solution(final.content).first_wrong_step is None
    counts = json.loads((tmp_path / "a" / "math.json").read_text())
    assert counts["code"] == 8 and counts["dropped"] == 0
    again = list(MathSynthesizer(cfg, make_services(sandbox=isolated_sandbox)).synthesize(8, tmp_path / "b"))
    assert again == rows


@pytest.mark.slow
def test_a_program_that_loops_is_dropped_with_its_reason(isolated_sandbox):
    from herd.plugins.math.interleaved import interleaved_rows

    problems = generate(2, 0, "train")
    looping = {problems[0].id}

    class LoopingSandbox:
        """The real sandbox, given a looping program for the first problem."""

        def run_many(self, programs):
            first = type(programs[0])({"main.py": "while True:\n    pass"}, programs[0].command, 1)
            return isolated_sandbox.run_many([first, *programs[1:]])

    @contextlib.contextmanager
    def open_looping():
        yield LoopingSandbox()

    rows, dropped = interleaved_rows(problems, open_looping, 1.0, AnswerVerifier())
    assert [r.id for r in rows] == [f"{problems[1].id}-code"]
    assert [(d.id, d.reason) for d in dropped] == [(f"{p}-code", "code_failed") for p in looping]
    assert dropped[0].detail.startswith("Error: the program was stopped after 1 s")


def test_without_a_sandbox_the_code_rows_are_dropped_with_the_reason(tmp_path, make_services):
    # make_services' app registers no sandbox backend: opening one fails as on a bare machine
    cfg = MathSynthConfig(mistakes=0.0, code_share=1.0)
    rows = list(MathSynthesizer(cfg, make_services()).synthesize(3, tmp_path / "w"))
    assert [r.source for r in rows] == ["math_templated"] * 3
    dropped = [json.loads(line) for line in (tmp_path / "w" / "math_dropped.jsonl").read_text().splitlines()]
    assert [d["reason"] for d in dropped] == ["no_sandbox"] * 3
    assert "no isolated sandbox is available" in dropped[0]["detail"]
