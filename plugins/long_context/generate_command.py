"""``python cli.py long-context generate --task T --length N --samples K --tokenizer TOK
--seed S --output F.jsonl``: RULER rows (index, input, outputs, length, depth)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from herd.core.errors import ConfigError
from herd.lib.long_context.generate import generate_samples
from herd.lib.long_context.sample import write_samples
from herd.lib.long_context.tasks import TASKS, task_spec
from herd.lib.long_context.token_counter import TokenCounter


def add_parser(sub) -> None:
    """The ``generate`` action of ``long-context`` (``sub``: its subparsers)."""
    gen = sub.add_parser("generate", help="write RULER-format samples of one task at one length")
    gen.add_argument("--task", required=True, help=f"one of {', '.join(TASKS)}")
    gen.add_argument("--length", type=int, required=True, help="N: every sample is within [0.97 N, N] tokens")
    gen.add_argument("--samples", type=int, default=500, help="how many samples (default 500, as RULER)")
    gen.add_argument("--tokenizer", type=Path, required=True,
                     help="a Hugging Face tokenizer directory or a tokenizer.json")
    gen.add_argument("--seed", type=int, default=42, help="random seed (default 42, as RULER)")
    gen.add_argument("--output", type=Path, required=True, help="the JSONL file to write")


def run(args: argparse.Namespace, app) -> int:
    spec = task_spec(args.task)
    if args.length < 1:
        raise ConfigError(f"--length {args.length}: must be a positive token count")
    counter = TokenCounter.load(args.tokenizer)
    started = time.perf_counter()
    samples = generate_samples(spec, args.length, args.samples, counter, args.seed)
    written = write_samples(samples, args.output)
    lengths = [s.length for s in samples]
    print(json.dumps({"task": spec.name, "length": args.length, "samples": written, "output": str(args.output),
                      "min_length": min(lengths), "max_length": max(lengths),
                      "seconds": round(time.perf_counter() - started, 2)}))
    return 0
