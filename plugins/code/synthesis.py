"""Synthetic code data with execution feedback (docs/recipe.md section 6, synthetic data 1-3).

1. *Execution feedback*: seed snippet -> the generator writes a problem -> it writes an
   explained solution and unit tests -> static checks (tree-sitter, pyflakes) and dynamic
   checks (the tests run in the sandbox) -> on failure the problem, the answer and the
   error go back for a revision, up to ``max_revisions`` turns -> only passing answers are
   kept, counted as correct at once or repaired; the rest are dropped with their reason.
2. *Translation*: each kept Python solution and its tests are translated into the
   ``translate_to`` languages (Lua and Perl are in the sandbox image) and kept only when
   the translation parses and its own tests pass, with the same feedback loop.
3. *Back-translation*: code -> explanation -> code again; the explanation is kept when the
   generator, asked as a judge, says the regenerated code is faithful *and* the original
   tests pass against it.

All model calls go through ``protocols.Generator``, batched per step; all programs through
``protocols.Sandbox.run_many``.
"""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from herd.core.protocols import Program, SamplingParams
from herd.core.records import ChatMessage, SFTRow
from herd.core.services import Services
from herd.lib.chat.checked import generate_checked
from herd.plugins.code import prompts
from herd.plugins.code.answers import code_blocks
from herd.plugins.code.seeds import Seed, seeds_from_paths
from herd.plugins.code.settings import TRAIN_PROBLEMS, ExecutionFeedbackConfig
from herd.plugins.code.static_analysis import analyze

# Generation and sandbox runs are batched, so progress is a line per revision turn.
log = logging.getLogger("herd.code.synthesis")


@dataclass(frozen=True)
class Target:
    """How answers in one language are checked and run."""

    language: str  # tree-sitter-language-pack name
    fence: str
    filename: str
    interpreter: str
    assertion: str  # regex that tests must match at least once
    runner: str = ""  # appended after the tests

    def program(self, solution: str, tests: str) -> str:
        return f"{solution.rstrip()}\n\n{tests.rstrip()}\n{self.runner}"


TARGETS = {
    "python": Target("python", "python", "main.py", "python3", r"\bassert\b",
                     runner="\nfor _name, _test in sorted(globals().items()):\n"
                            "    if _name.startswith('test_') and callable(_test):\n"
                            "        _test()\n"),
    "lua": Target("lua", "lua", "main.lua", "lua5.4", r"\bassert\s*\("),
    "perl": Target("perl", "perl", "main.pl", "perl", r"\bdie\b|\bok\s*\("),
}


@dataclass
class Check:
    passed: bool
    feedback: str = ""
    solution: str = ""
    tests: str = ""


@dataclass
class Task:
    """One answer to obtain: ``prompt`` asks for it, ``problem`` is restated in revisions."""

    id: str
    prompt: str
    problem: str
    target: Target
    meta: dict = field(default_factory=dict)
    answer: str = ""
    turns: int = 0
    check: Check | None = None


class ExecutionFeedbackSynthesizer:
    """Needs ``services.generator`` (the model that writes problems, solutions and tests);
    programs run in ``services.open_sandbox()``."""

    def __init__(self, cfg: ExecutionFeedbackConfig | None, services: Services):
        self.cfg = cfg or ExecutionFeedbackConfig()
        self.services = services
        self.counts: dict[str, int] = {}
        self.dropped: list[dict] = []

    # -- the Synthesizer protocol ----------------------------------------------------
    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow]:
        """Rows from at most ``budget`` seeds; counts go to ``code_execution_feedback.json``
        and dropped attempts (with the last feedback) to ``code_execution_feedback_dropped.jsonl``."""
        cfg = self.cfg
        target = TARGETS.get(cfg.language)
        if target is None:
            raise ValueError(f"synthesizers.code_execution_feedback.language = {cfg.language!r}: "
                             f"supported are {', '.join(TARGETS)}")
        self.generator = self.services.require_generator(
            "synthesizer 'code_execution_feedback'", "it writes problems, solutions and tests")
        seeds = self._seeds(budget)
        self.counts = {"seeds": len(seeds)}
        rows: list[SFTRow] = []
        with self.services.open_sandbox() as sandbox:
            self.sandbox = sandbox
            kept = self._execution_feedback(seeds, target)
            rows += [self._row(task, "execution_feedback") for task in kept]
            if target.language == "python":
                rows += self._translations(kept)
                rows += self._back_translations(kept)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "code_execution_feedback.json").write_text(json.dumps(self.counts, indent=2, sort_keys=True))
        with (workdir / "code_execution_feedback_dropped.jsonl").open("w", encoding="utf-8") as handle:
            for record in self.dropped:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        yield from rows

    # -- 1. execution feedback ---------------------------------------------------------
    def _seeds(self, budget: int) -> list[Seed]:
        paths = [Path(p) for p in self.cfg.seed_paths] or [TRAIN_PROBLEMS]
        seeds = seeds_from_paths(paths)
        random.Random(self.cfg.seed).shuffle(seeds)
        return seeds[: max(0, budget)]

    def _execution_feedback(self, seeds: list[Seed], target: Target) -> list[Task]:
        problem_prompts = [prompts.PROBLEM.format(language=s.language, snippet=s.code) for s in seeds]
        problems = [self._clean_problem(text) for text in self._generate(problem_prompts)]
        tasks = []
        for seed, problem in zip(seeds, problems):
            if not problem:
                self._drop("execution_feedback", seed.where, "the generator wrote no problem", "")
                continue
            prompt = prompts.SOLUTION.format(language=target.language, fence=target.fence, problem=problem)
            tasks.append(Task(f"code-ef-{len(tasks)}", prompt, problem, target, {"seed": seed.where}))
        self._solve(tasks, "execution_feedback")
        return [t for t in tasks if t.check and t.check.passed]

    # -- 2. translation ------------------------------------------------------------------
    def _translations(self, kept: list[Task]) -> list[SFTRow]:
        tasks = []
        for language in self.cfg.translate_to:
            target = TARGETS.get(language)
            if target is None:
                raise ValueError(f"synthesizers.code_execution_feedback.translate_to: {language!r} is not one of "
                                 f"{', '.join(TARGETS)}")
            for source in kept:
                request = prompts.TRANSLATION_REQUEST.format(
                    language=language, solution=source.check.solution, tests=source.check.tests)
                prompt = prompts.TRANSLATE.format(request=request, fence=target.fence)
                tasks.append(Task(f"{source.id}-{language}", prompt, request, target,
                                  {**source.meta, "translated_from": source.id}))
        self._solve(tasks, "translation")
        return [self._row(t, "translation") for t in tasks if t.check and t.check.passed]

    # -- 3. back-translation -------------------------------------------------------------
    def _back_translations(self, kept: list[Task]) -> list[SFTRow]:
        if not self.cfg.back_translate or not kept:
            return []
        codes = [t.check.solution for t in kept]
        explanations = self._generate([prompts.EXPLAIN.format(code=c) for c in codes])
        regenerated = [_first_block(a) for a in self._generate(
            [prompts.REGENERATE.format(explanation=e) for e in explanations])]
        verdicts = self._generate([prompts.JUDGE.format(original=c, regenerated=r)
                                   for c, r in zip(codes, regenerated)])
        python = TARGETS["python"]
        runs = self.sandbox.run_many([
            Program({python.filename: python.program(r, t.check.tests)}, [python.interpreter, python.filename],
                    self.cfg.timeout_s) for r, t in zip(regenerated, kept)])
        rows = []
        counts = {"faithful": 0, "unfaithful": 0, "tests_failed": 0}
        for task, code, explanation, verdict, run in zip(kept, codes, explanations, verdicts, runs):
            faithful = _verdict(verdict)
            if faithful and run.passed and explanation.strip():
                counts["faithful"] += 1
                rows.append(SFTRow(
                    id=f"{task.id}-explain",
                    messages=[ChatMessage("user", prompts.EXPLAIN.format(code=code)),
                              ChatMessage("assistant", explanation.strip())],
                    capability="code", category="back_translation", language="python", source="code_execution_feedback",
                    metadata={**task.meta, "judge": verdict.strip()[:200]},
                ))
                continue
            reason = "judge says unfaithful" if not faithful else "original tests fail on regenerated code"
            counts["unfaithful" if not faithful else "tests_failed"] += 1
            self._drop("back_translation", task.id, reason, explanation, run.stderr[-500:])
        self.counts.update({f"back_translation.{k}": v for k, v in counts.items()})
        return rows

    # -- the shared generate -> check -> revise loop --------------------------------------
    def _solve(self, tasks: list[Task], kind: str) -> None:
        """Answer every task, revising failures up to ``max_revisions`` times; counts
        ``<kind>.correct_first``, ``.repaired`` and ``.dropped``."""
        active = tasks
        answers = self._generate([t.prompt for t in active])
        for turn in range(self.cfg.max_revisions + 1):
            for task, answer in zip(active, answers):
                task.answer, task.turns = answer, turn + 1
            for task, check in zip(active, self._check(active)):
                task.check = check
            log.info("%s: turn %d of %d: %d of %d answers pass", kind, turn + 1, self.cfg.max_revisions + 1,
                     sum(1 for t in tasks if t.check and t.check.passed), len(tasks))
            active = [t for t in active if not t.check.passed]
            if not active or turn == self.cfg.max_revisions:
                break
            answers = self._generate([
                prompts.REVISE.format(problem=t.problem, answer=t.answer, feedback=t.check.feedback,
                                      fence=t.target.fence) for t in active])
        passed = [t for t in tasks if t.check and t.check.passed]
        self.counts[f"{kind}.correct_first"] = sum(t.turns == 1 for t in passed)
        self.counts[f"{kind}.repaired"] = sum(t.turns > 1 for t in passed)
        self.counts[f"{kind}.dropped"] = len(tasks) - len(passed)
        for task in tasks:
            if not (task.check and task.check.passed):
                self._drop(kind, task.meta.get("seed", task.id), task.check.feedback if task.check else "",
                           task.answer)

    def _check(self, tasks: list[Task]) -> list[Check]:
        """Static checks first; the survivors run in the sandbox together."""
        checks: list[Check] = []
        to_run: list[tuple[int, Program]] = []
        for index, task in enumerate(tasks):
            check = static_check(task.answer, task.target)
            checks.append(check)
            if check.passed:
                program = task.target.program(check.solution, check.tests)
                to_run.append((index, Program({task.target.filename: program},
                                              [task.target.interpreter, task.target.filename], self.cfg.timeout_s)))
        results = self.sandbox.run_many([p for _, p in to_run])
        for (index, _), result in zip(to_run, results):
            if not result.passed:
                checks[index].passed = False
                checks[index].feedback = _run_feedback(result)
        return checks

    # -- helpers ---------------------------------------------------------------------------
    def _generate(self, prompt_texts: list[str]) -> list[str]:
        if not prompt_texts:
            return []
        params = SamplingParams(temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens, n=1,
                                seed=self.cfg.seed)
        outputs = generate_checked(self.generator, prompt_texts, params)
        return [out[0] if out else "" for out in outputs]

    @staticmethod
    def _clean_problem(text: str) -> str:
        return text.strip()

    def _drop(self, kind: str, where: str, reason: str, answer: str, detail: str = "") -> None:
        self.dropped.append({"kind": kind, "where": where, "reason": reason, "answer": answer, "detail": detail})

    def _row(self, task: Task, category: str) -> SFTRow:
        outcome = "first_try" if task.turns == 1 else "repaired"
        return SFTRow(
            id=task.id,
            messages=[ChatMessage("user", task.problem),
                      ChatMessage("assistant", task.answer.strip())],
            capability="code", category=category, language=task.target.language,
            source="code_execution_feedback",
            metadata={**task.meta, "outcome": outcome, "turns": task.turns},
        )


def static_check(answer: str, target: Target) -> Check:
    blocks = code_blocks(answer)
    if len(blocks) < 2:
        return Check(False, f"The answer must contain two fenced ```{target.fence} code blocks: first the "
                            f"solution, then the unit tests. It contains {len(blocks)}.")
    solution, tests = blocks[0], blocks[1]
    if not re.search(target.assertion, tests):
        return Check(False, "The unit tests contain no assertions, so they cannot fail; add assertions that "
                            "check the solution's results.", solution, tests)
    combined = f"{solution.rstrip()}\n\n{tests}"
    analysis = analyze(combined, target.language)
    if not analysis.ok:
        return Check(False, "The solution followed by the tests does not pass static analysis.\n"
                     + analysis.feedback(combined), solution, tests)
    return Check(True, "", solution, tests)


def _run_feedback(result) -> str:
    what = {"timeout": "did not finish within the time limit (an infinite loop?)",
            "oom": "ran out of memory", "output_limit": "printed too much output"}.get(result.status)
    if what:
        return f"Running the solution with its tests {what}."
    tail = "\n".join(result.stderr.strip().splitlines()[-15:])
    return f"Running the solution with its tests failed (exit code {result.exit_code}):\n{tail}"


def _first_block(answer: str) -> str:
    blocks = code_blocks(answer)
    return blocks[0] if blocks else answer


def _verdict(text: str) -> bool:
    match = re.search(r"\b(YES|NO)\b", text.upper())
    return bool(match) and match.group(1) == "YES"
