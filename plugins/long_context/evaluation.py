"""Generate RULER samples with a model's own tokenizer, ask a generator, score.

Prompts are RULER's ``base`` template (the input ends with the answer prefix and the model
continues it), decoded greedily for the task's ``tokens_to_generate``. Shared by
``eval-long`` and the ``long_context`` evaluator."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from herd.core.protocols import Generator, SamplingParams
from herd.lib.long_context.generate import LOWER, generate_samples, smallest_length
from herd.lib.long_context.haystack import Haystacks
from herd.plugins.long_context.scoring import match_all, postprocess, string_match_all
from herd.lib.long_context.tasks import TaskSpec
from herd.lib.long_context.token_counter import TokenCounter

METRIC = "string_match_all"


@dataclass(frozen=True)
class TaskResult:
    """``score``: RULER's percentage (0-100); ``nulls``: empty predictions."""

    task: str
    length: int
    samples: int
    score: float
    nulls: int
    metric: str = METRIC


@dataclass(frozen=True)
class Skipped:
    """A task and length not evaluated, and why (its template alone does not fit)."""

    task: str
    length: int
    reason: str


@dataclass(frozen=True)
class EvalSummary:
    model: str
    tokenizer: str
    seed: int
    results: list[TaskResult]
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def average(self) -> float:
        return round(sum(r.score for r in self.results) / len(self.results), 2) if self.results else 0.0

    def to_dict(self) -> dict:
        return {"model": self.model, "tokenizer": self.tokenizer, "seed": self.seed, "average": self.average,
                "results": [asdict(r) for r in self.results], "skipped": [asdict(s) for s in self.skipped]}


def evaluate_long_context(generator: Generator, counter: TokenCounter, tasks: list[TaskSpec], lengths: list[int],
                          samples: int, seed: int, workdir: Path, model: str = "",
                          skip_unfit: bool = False) -> EvalSummary:
    """``skip_unfit``: a task whose template alone is too long for a length is recorded in
    ``skipped`` instead of being an error (the evaluator sizes to the model's context; the
    ``eval-long`` command keeps the error, since its user chose the lengths)."""
    workdir.mkdir(parents=True, exist_ok=True)
    haystacks = Haystacks(counter)
    results, skipped = [], []
    for task in tasks:
        for length in lengths:
            if skip_unfit:
                smallest = smallest_length(task, length, counter, seed, haystacks)
                if smallest > LOWER * length:
                    skipped.append(Skipped(task.name, length, f"its template, needles and question alone take "
                                                              f"{smallest} tokens"))
                    continue
            rows = generate_samples(task, length, samples, counter, seed, haystacks)
            params = SamplingParams(temperature=0.0, max_tokens=task.tokens_to_generate, n=1, seed=seed)
            outputs = generator.generate([r.input for r in rows], params)
            predictions = [postprocess(out[0] if out else "") for out in outputs]
            with (workdir / f"{task.name}_{length}.jsonl").open("w", encoding="utf-8") as handle:
                for row, pred in zip(rows, predictions):
                    record = {**row.to_row(), "pred": pred, "score": match_all(pred, row.outputs)}
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            results.append(TaskResult(task.name, length, len(rows), string_match_all(predictions, [r.outputs for r in rows]),
                                      sum(1 for p in predictions if not p)))
    summary = EvalSummary(model, counter.source, seed, results, skipped)
    (workdir / "summary.json").write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    return summary
