"""``python cli.py long-context repo-qa --package NAME --samples K --output F.jsonl [--seed S]``:
code-repository questions over an installed package, one JSON row each (``RepoQuestion``'s
fields: removed_module, dependents, provides, question, answer, context...)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from herd.core.errors import ConfigError
from herd.plugins.long_context.repo_qa import full_questions


def add_parser(sub) -> None:
    qa = sub.add_parser("repo-qa", help="which modules import a removed module, and what it must provide")
    qa.add_argument("--package", required=True, help="an installed Python package (its source is read, not run)")
    qa.add_argument("--samples", type=int, default=10, help="how many questions (default 10)")
    qa.add_argument("--output", type=Path, required=True, help="the JSONL file to write")
    qa.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    qa.add_argument("--min-dependents", type=int, default=5,
                    help="a removed module is imported by at least this many others (default 5)")


def run(args: argparse.Namespace, app) -> int:
    if args.samples < 1:
        raise ConfigError(f"--samples {args.samples}: give at least 1")
    if args.min_dependents < 1:
        raise ConfigError(f"--min-dependents {args.min_dependents}: give at least 1")
    rows = full_questions(args.package, args.samples, args.seed, args.min_dependents)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as handle:
        for i, row in enumerate(rows):
            handle.write(json.dumps({"index": i, **asdict(row)}, ensure_ascii=False) + "\n")
    print(json.dumps({"package": args.package, "samples": len(rows), "output": str(args.output),
                      "removed_modules": sorted({r.removed_module for r in rows})}))
    return 0
