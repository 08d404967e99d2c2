"""The math synthesizer: checked worked solutions, learning-from-mistakes rows and prompts
mined from a curate stage's kept documents."""

import gzip
import json

from herd.core.records import PreferenceRow, SFTRow
from herd.plugins.math.config import MathSynthConfig
from herd.plugins.math.problems import generate, inject
from herd.plugins.math.steps import check_solution
from herd.plugins.math.synthesis import MathSynthesizer
from herd.plugins.math.verifier import AnswerVerifier

DOCS = [
    {"id": "worked", "domain": "math_reasoning", "text": (
        "Notes on sales.\n\nA shop sells 12 pens a day for 5 days. How many pens does it sell?\n\n"
        "It sells 12 * 5 = 60 pens.\nThe answer is 60.\n\n"
        "What is 2 + 2?\n\nThe answer is 5.\n\n"          # asserted, not computed: skipped
        "How many legs do 3 cats have?\n\n3 * 4 = 13 legs.\nThe answer is 13.")},  # wrong step: skipped
    {"id": "doc", "domain": "math_reasoning", "text": (
        "cost((AB)C) = 10*100*5 + 10*5*50 = 7500\n>>> 3 * 4 + 2\n14\n>>> 2 * 3 + 1\n8\nx = 3 + 4")},
    {"id": "general", "domain": "general", "text": "What is 6 * 7?\n\n6 * 7 + 0 = 42\nThe answer is 42."},
]


def _curate(tmp_path):
    kept = tmp_path / "curate" / "kept"
    kept.mkdir(parents=True)
    with gzip.open(kept / "part-00000.jsonl.gz", "wt", encoding="utf-8") as handle:
        for doc in DOCS:
            handle.write(json.dumps(doc) + "\n")
    return tmp_path / "curate"


def test_rows_are_checked_solutions_and_corrections(tmp_path, make_services):
    synth = MathSynthesizer(MathSynthConfig(mistakes=0.5, code_share=0.0), make_services())
    rows = list(synth.synthesize(40, tmp_path / "work"))
    sft = [r for r in rows if isinstance(r, SFTRow)]
    pairs = [r for r in rows if isinstance(r, PreferenceRow)]
    assert all(r.capability == "math" for r in rows)
    solved = [r for r in sft if r.source == "math_templated"]
    assert len(solved) == 40
    verifier = AnswerVerifier()
    for row in solved:
        answer = row.messages[-1].content
        assert verifier.verify(row.metadata["reference"], answer).correct
        assert check_solution(answer).first_wrong_step is None
    corrections = [r for r in sft if r.source == "math_mistakes"]
    assert 10 <= len(corrections) <= 30 and len(pairs) == len(corrections)
    for row in corrections:
        prompt = row.messages[0].content
        line = row.metadata["wrong_step"] + 1
        assert f"Checker: line {line}:" in prompt
        # the quoted mistake ends at the flagged line: what follows it builds on the error
        assert prompt.split("Wrong:\n")[1].split("\nChecker:")[0].count("\n") == line - 1
        assert check_solution(row.messages[-1].content).first_wrong_step is None
    pair = pairs[0]
    assert check_solution(pair.responses[0][0].content).first_wrong_step is None
    assert check_solution(pair.responses[1][0].content).first_wrong_step is not None
    counts = json.loads((tmp_path / "work" / "math.json").read_text())
    assert counts["templated"] == 40 and counts["mistakes"] == len(corrections) and counts["dropped"] == 0
    again = MathSynthesizer(MathSynthConfig(mistakes=0.5, code_share=0.0), make_services())
    again = list(again.synthesize(40, tmp_path / "w2"))
    assert [r.id for r in again] == [r.id for r in rows]


def test_a_mistake_the_checker_cannot_see_is_dropped_with_its_reason(tmp_path, make_services):
    import random

    synth = MathSynthesizer(MathSynthConfig(), make_services())
    problem = generate(1, 0, "train")[0]
    mistake = inject(problem, random.Random(0))
    hidden = type(mistake)(problem, problem.solution, mistake.wrong_step, problem.answer)  # "wrong" yet clean
    dropped = synth.mistake_rows(hidden)
    assert dropped.reason == "error_not_caught"


def test_a_wrong_worked_solution_is_dropped(make_services):
    from dataclasses import replace

    synth = MathSynthesizer(MathSynthConfig(), make_services())
    problem = generate(1, 0, "train")[0]
    assert isinstance(synth.solution_row(problem), SFTRow)
    dropped = synth.solution_row(replace(problem, answer=str(int(problem.answer) + 1)))
    assert dropped.reason == "wrong_answer"


def test_mines_only_checkable_passages_of_math_documents(tmp_path, make_services):
    cfg = MathSynthConfig(corpus=str(_curate(tmp_path)), mistakes=0.0, code_share=0.0)
    synth = MathSynthesizer(cfg, make_services())
    rows = list(synth.synthesize(10, tmp_path / "work"))
    mined = {r.id: r for r in rows if r.source == "math_mined"}
    assert set(mined) == {"worked#worked1", "doc#line0", "doc#line1"}
    assert mined["worked#worked1"].metadata["reference"] == "60"
    assert mined["doc#line0"].messages[0].content.startswith("Compute 10*100*5 + 10*5*50.")
    assert mined["doc#line1"].metadata["reference"] == "14"
    counts = json.loads((tmp_path / "work" / "math.json").read_text())
    assert counts["mined"] == 3 and counts["templated"] == 7


def test_mines_the_curate_stage_the_running_stage_reads(tmp_path, make_services):
    services = make_services(inputs={"curate": _curate(tmp_path)})
    cfg = MathSynthConfig(mistakes=0.0, mined=1, code_share=0.0)
    rows = list(MathSynthesizer(cfg, services).synthesize(4, tmp_path / "w"))
    assert [r.source for r in rows].count("math_mined") == 1
