"""``herd curate``: the curation stage alone, on any input, into any folder."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from herd.plugins.curation.build import build_runner
from herd.plugins.curation.executors import EXECUTORS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", nargs="+", required=True, metavar="PATH",
                        help="JSONL(.gz/.zst/.bz2/.xz), Parquet, WARC or .txt files, folders of them, "
                             "or HF datasets saved to disk")
    parser.add_argument("--output", required=True, type=Path, metavar="DIR",
                        help="gets kept/, dropped/ and funnel.json")
    parser.add_argument("--executor", choices=EXECUTORS, help="default: curate.executor")
    parser.add_argument("--format", choices=["jsonl", "parquet"], help="format of kept/ (default: curate.output_format)")
    parser.add_argument("--workers", type=int, help="local executor processes (default: every core)")
    parser.add_argument("--steps", help="comma-separated step names replacing curate.steps")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run in DIR")


def run(args: argparse.Namespace, app) -> int:
    cfg = app.config.section("curate")
    changes: dict = {"inputs": [str(p) for p in args.input]}
    if args.executor:
        changes["executor"] = args.executor
    if args.format:
        changes["output_format"] = args.format
    if args.workers is not None:
        changes["workers"] = args.workers
    if args.steps is not None:
        changes["steps"] = [s.strip() for s in args.steps.split(",") if s.strip()]
    cfg = dataclasses.replace(cfg, **changes)
    args.output.mkdir(parents=True, exist_ok=True)
    runner = build_runner(app.registry, app.config, cfg, args.output, log=app.log, resuming=args.resume)
    funnel = runner.run()
    app.log.info(
        "curate: %d records read, %d kept, %d dropped -> %s",
        funnel["records_in"], funnel["kept"]["records"], funnel["dropped"]["records"], args.output,
    )
    print(json.dumps({k: funnel[k] for k in ("records_in", "kept", "dropped", "unread_inputs")}, indent=2))
    return 0
