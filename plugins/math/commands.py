"""``python cli.py math verify|check-steps --input F.jsonl --output G.jsonl``."""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from herd.plugins.math.rows import Row, read_rows, write_rows

log = logging.getLogger("herd.math")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="math_command", required=True)
    verify = sub.add_parser("verify", help="is each row's response's final answer equal to its reference?")
    verify.add_argument("--input", type=Path, required=True, help="JSONL rows with 'reference' and 'response'")
    verify.add_argument("--output", type=Path, required=True, help="the rows with 'extracted' and 'correct' added")
    verify.add_argument("--timeout", type=float, default=None,
                        help="seconds per row (default: [judges.math_answer] timeout_s)")
    steps = sub.add_parser("check-steps", help="re-compute the arithmetic in each row's worked solution")
    steps.add_argument("--input", type=Path, required=True, help="JSONL rows with 'question' and 'solution'")
    steps.add_argument("--output", type=Path, required=True, help="the rows with 'steps' and 'first_wrong_step' added")


def run(args: argparse.Namespace, app) -> int:
    if args.math_command == "verify":
        from herd.plugins.math.config import MathAnswerConfig

        cfg = app.config.component("judges", "math_answer") or MathAnswerConfig()
        timeout = args.timeout if args.timeout is not None else cfg.timeout_s
        rows, summary = verify_rows(read_rows(args.input), timeout)
    else:
        rows, summary = check_step_rows(read_rows(args.input))
    count = write_rows(args.output, rows)
    print(json.dumps({"rows": count, **summary(), "output": str(args.output)}))
    return 0


def _report(row: Row) -> None:
    if row.error and not row.data:
        log.warning("%s", row.error)


def verify_rows(rows: Iterator[Row], timeout_s: float):
    from herd.plugins.math.verifier import AnswerVerifier

    verifier = AnswerVerifier(timeout_s)
    counts = {"correct": 0, "errors": 0}

    def out() -> Iterator[dict[str, Any]]:
        for row in rows:
            _report(row)
            reference, response = (row.text("reference"), row.text("response")) if not row.error else (None, None)
            if row.error or reference is None or response is None:
                counts["errors"] += 1
                yield {**row.data, "line": row.line, "extracted": None, "correct": False, "error": row.error}
                continue
            verdict = verifier.verify(reference, response)
            counts["correct"] += verdict.correct
            counts["errors"] += verdict.error is not None
            result = {**row.data, "extracted": verdict.extracted, "correct": verdict.correct}
            yield {**result, "error": verdict.error} if verdict.error else result

    return out(), lambda: dict(counts)


def check_step_rows(rows: Iterator[Row]):
    from herd.plugins.math.steps import check_solution

    counts = {"flagged": 0, "errors": 0}

    def out() -> Iterator[dict[str, Any]]:
        for row in rows:
            _report(row)
            if not row.error:
                row.text("question")
            solution = row.data.get("solution")
            if not row.error and not (isinstance(solution, str) or
                                      (isinstance(solution, list) and all(isinstance(s, str) for s in solution))):
                row.error = "missing field 'solution' (a string of lines, or a list of strings)"
            if row.error:
                counts["errors"] += 1
                yield {**row.data, "line": row.line, "steps": [], "first_wrong_step": None, "error": row.error}
                continue
            checked = check_solution(solution)
            counts["flagged"] += checked.first_wrong_step is not None
            yield {**row.data, "steps": [asdict(s) | {"correct": s.correct} for s in checked.steps],
                   "first_wrong_step": checked.first_wrong_step}

    return out(), lambda: dict(counts)
