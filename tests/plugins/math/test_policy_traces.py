"""The policy's own traces: Math-Shepherd step labels, the outcome and step reward models,
filtering by both, and MCTS on prompts no sample solves.

The generator is a scripted stand-in for the ``protocols.Generator`` interface: it knows
each problem's worked solution and continues a partial one rightly or wrongly, so what
every step's label must be is known. The reward models are real (a tiny Llama)."""

from __future__ import annotations

import json
import random
import time

import pytest

from herd.core.protocols import SamplingParams
from herd.core.records import SFTRow
from herd.lib.chat.format import END_HEADER
from herd.lib.chat.text_backend import TextChatMixin
from herd.plugins.math.config import MathSynthConfig
from herd.plugins.math.mcts import SearchBudget, search
from herd.plugins.math.policy_config import MathPolicyConfig
from herd.plugins.math.policy_traces import policy_rows
from herd.plugins.math.problems import generate, inject
from herd.plugins.math.reward_models import Example, PointwiseRM, auc
from herd.plugins.math.step_labels import label_steps, make_trace
from herd.plugins.math.synthesis import MathSynthesizer
from herd.plugins.math.verifier import AnswerVerifier
from tests.conftest import one_torch_thread

one_torch_thread = pytest.fixture(autouse=True, scope="module")(one_torch_thread)

PROBLEMS = generate(6, 3, "train")
VERIFIER = AnswerVerifier()


def _split(prompt: str):
    """(problem, the lines of the partial solution) of a rendered continuation prompt."""
    problem = next(p for p in PROBLEMS if p.question in prompt)
    body = prompt.rsplit(f"assistant{END_HEADER}\n\n", 1)[1]
    return problem, [line for line in body.split("\n") if line]


class Scripted(TextChatMixin):
    """Completions of a partial solution: sample ``i`` of ``n`` finishes the worked
    solution when ``right(i)`` and the partial one is on track, else ends on a wrong
    answer. With ``stop == ["\\n"]`` (one line, as MCTS asks) the choices are per line:
    even samples give the solution's next line, odd ones a wrong last line."""

    def __init__(self, right=lambda i: i % 2 == 0, lines_solve: bool = True):
        self.right, self.lines_solve = right, lines_solve
        self.calls = 0

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        self.calls += 1
        out = []
        for prompt in prompts:
            problem, done = _split(prompt)
            on_track = tuple(done) == problem.solution[: len(done)]
            wrong = f"#### {int(problem.answer.split('/')[0]) + 1000}"
            if params.stop == ["\n"]:
                good = problem.solution[len(done)] if on_track and len(done) < len(problem.solution) else wrong
                out.append([good if i % 2 == 0 and self.lines_solve else wrong for i in range(params.n)])
                continue
            rest = "\n".join(problem.solution[len(done):])
            out.append([rest if on_track and self.right(i) else wrong for i in range(params.n)])
        return out


def test_step_labels_are_the_share_of_completions_that_reach_the_answer():
    problem = PROBLEMS[0]
    right = make_trace("right", problem.id, problem.prompt, problem.answer, problem.trace, VERIFIER)
    mistake = inject(problem, random.Random(1))
    wrong = make_trace("wrong", problem.id, problem.prompt, problem.answer, mistake.trace, VERIFIER)
    assert right.passed and not wrong.correct and wrong.first_wrong_step == mistake.wrong_step
    labelled, unlabelled = label_steps([right, wrong], Scripted(), VERIFIER, rollouts=4, temperature=1.0,
                                       max_tokens=64, seed=0)
    assert unlabelled == []
    by_id = {x.trace.id: x for x in labelled}
    steps = len(problem.solution)
    # Half of the completions after a right step finish the solution; the last line is the verdict.
    assert by_id["right"].soft == (0.5,) * (steps - 1) + (1.0,)
    assert by_id["right"].hard == (1.0,) * steps
    expected = tuple(0.5 if i < mistake.wrong_step else 0.0 for i in range(steps - 1)) + (0.0,)
    assert by_id["wrong"].soft == expected
    assert by_id["wrong"].hard == tuple(1.0 if x else 0.0 for x in expected)


def _budget(nodes=24, depth=6):
    return SearchBudget(nodes=nodes, children=2, depth=depth, line_tokens=32, temperature=1.0, c=1.0)


def test_mcts_finds_a_solution_the_lines_can_reach():
    problem = PROBLEMS[1]
    prefers_wrong = lambda prompt, lines: [0.9 if line.startswith("####") else 0.2 for line in lines]  # noqa: E731
    result = search(problem.id, problem.prompt, problem.answer, Scripted(), prefers_wrong, VERIFIER, _budget(),
                    seed=0, deadline=time.monotonic() + 60)
    assert result.solved and result.stopped == "solved"
    assert result.solution == problem.solution
    assert result.nodes <= 24


def test_mcts_keeps_to_its_budgets():
    problem = PROBLEMS[2]
    never = Scripted(lines_solve=False)
    result = search(problem.id, problem.prompt, problem.answer, never, None, VERIFIER, _budget(nodes=5),
                    seed=0, deadline=time.monotonic() + 60)
    # Every line is a wrong final answer, and a sibling repeats none: nothing new is left.
    assert not result.solved and result.stopped == "exhausted" and result.nodes == 1
    late = search(problem.id, problem.prompt, problem.answer, Scripted(), None, VERIFIER, _budget(),
                  seed=0, deadline=time.monotonic() - 1)
    assert late.stopped == "time" and late.nodes == 0 and late.expansions == 0
    small = search(problem.id, problem.prompt, problem.answer, Scripted(), lambda p, lines: [0.0] * len(lines),
                   VERIFIER, _budget(nodes=1), seed=0, deadline=time.monotonic() + 60)
    assert small.nodes == 1 and small.stopped == "nodes"


def _examples(problems):
    """Worked solutions (every step right) and ones that give up after the first line and
    guess (the steps from the guess on wrong): a difference a tiny model can learn."""
    out = []
    for p in problems:
        out.append(Example(p.id, p.prompt, p.solution, (1.0,) * len(p.solution)))
        guessed = (p.solution[0], "I cannot work it out, so I guess.", "#### 1000")
        out.append(Example(f"{p.id}-guess", p.prompt, guessed, (1.0, 0.0, 0.0)))
    return out


@pytest.mark.slow
def test_reward_models_learn_the_labels_and_are_deterministic(model_dir, chat):
    from herd.lib.chat.format import ChatFormat
    from herd.lib.posttraining.models import load_tokenizer

    fmt = ChatFormat.from_tokenizer(load_tokenizer(model_dir))
    examples = _examples(generate(6, 5, "train"))
    outcome = [Example(e.id, e.prompt, e.lines, (e.labels[-1],)) for e in examples]
    scores = []
    for _ in range(2):
        orm = PointwiseRM(model_dir, fmt, "outcome", 512, seed=3)
        stats = orm.train(outcome, lr=3e-3, epochs=8, batch_rows=4)
        assert stats.examples == len(outcome) and stats.too_long == 0
        scores.append([orm.scores(e.prompt, e.lines)[0] for e in outcome])
    assert scores[0] == scores[1]
    assert sum(stats.loss[-3:]) / 3 < sum(stats.loss[:3]) / 3
    assert auc(scores[0], [e.labels[0] == 1.0 for e in outcome]) > 0.9
    prm = PointwiseRM(model_dir, fmt, "step", 512, seed=3)
    step_stats = prm.train(examples, lr=3e-3, epochs=8, batch_rows=4)
    assert sum(step_stats.loss[-3:]) / 3 < sum(step_stats.loss[:3]) / 3
    step_scores, step_labels = [], []
    for e in examples:
        s = prm.scores(e.prompt, e.lines)
        assert len(s) == len(e.lines)
        # A prefix scores as it does inside the whole trace (the model is causal).
        assert prm.scores(e.prompt, e.lines[:1])[0] == pytest.approx(s[0], abs=1e-5)
        step_scores += s
        step_labels += [label == 1.0 for label in e.labels]
    assert auc(step_scores, step_labels) > 0.8
    with pytest.raises(ValueError, match="labels"):
        prm.train([outcome[0]], lr=1e-3, epochs=1, batch_rows=1)


def _config(**kw):
    base = dict(prompts=4, samples=4, rollouts=2, epochs=2, batch_rows=8, reference_traces=4, reference_heldout=2,
                orm_threshold=0.0, prm_threshold=0.0, mcts_prompts=2, mcts_nodes=12, mcts_seconds=60.0)
    return MathPolicyConfig(**{**base, **kw})


@pytest.mark.slow
def test_policy_rows_keep_checked_traces_and_record_every_drop(model_dir, make_services, tmp_path):
    services = make_services(generator=Scripted(), generator_dir=model_dir)
    out = policy_rows(PROBLEMS, services, _config(), tmp_path / "a", seed=0)
    s = out.summary
    assert s.prompts == 4 and s.traces == 16 and s.verified == 8 and s.labelled == 16
    assert [r.source for r in out.sft] == ["math_policy"] * 4  # one kept trace per prompt
    for row in out.sft:
        assert VERIFIER.verify(row.metadata["reference"], row.messages[-1].content).correct
    assert len(out.preferences) == 4
    pair = out.preferences[0]
    assert VERIFIER.verify(pair.metadata["reference"], pair.responses[0][0].content).correct
    assert not VERIFIER.verify(pair.metadata["reference"], pair.responses[1][0].content).correct
    # Nothing lost: every trace is a row or a drop with its reason.
    assert len(out.sft) + len(out.dropped) == s.traces
    assert s.dropped_by_reason == {"wrong_answer": 8, "duplicate_prompt": 4}
    assert s.orm.trained_on > 0 and s.prm.loss_first is not None and s.orm.reference_heldout == 4
    written = json.loads((tmp_path / "a" / "math_policy.json").read_text())
    assert written["orm"]["trained_on"] == s.orm.trained_on and written["mcts"]["prompts"] == 0

    strict = policy_rows(PROBLEMS, services, _config(orm_threshold=1.0), tmp_path / "b", seed=0)
    assert strict.sft == [] and strict.summary.dropped_by_reason["orm_below_threshold"] == 8
    assert all("ORM" in d.detail for d in strict.dropped if d.reason == "orm_below_threshold")

    again = policy_rows(PROBLEMS, services, _config(), tmp_path / "c", seed=0)
    assert [r.messages for r in again.sft] == [r.messages for r in out.sft]
    assert again.summary.orm.reference_auc == s.orm.reference_auc


@pytest.mark.slow
def test_mcts_rows_for_prompts_no_sample_solves(model_dir, make_services, tmp_path):
    never = Scripted(right=lambda i: False)
    services = make_services(generator=never, generator_dir=model_dir)
    out = policy_rows(PROBLEMS, services, _config(), tmp_path, seed=0)
    mcts = out.summary.mcts
    assert out.summary.unsolved_prompts == 4 and mcts.prompts == 2
    assert mcts.solved == 2 and mcts.nodes <= 2 * 12
    rows = [r for r in out.sft if r.source == "math_mcts"]
    assert len(rows) == 2
    for row in rows:
        assert VERIFIER.verify(row.metadata["reference"], row.messages[-1].content).correct


def test_without_a_policy_nothing_is_sampled_and_math_json_says_why(make_services, tmp_path):
    synth = MathSynthesizer(MathSynthConfig(), make_services())
    rows = list(synth.synthesize(8, tmp_path))
    assert rows and all(r.source in ("math_templated", "math_mistakes") for r in rows if isinstance(r, SFTRow))
    policy = json.loads((tmp_path / "math.json").read_text())["policy"]
    assert "no policy" in policy["skipped"] and policy["traces"] == 0
