"""``python cli.py eval-long --model M --tasks niah_single_1,vt --lengths 4096,8192
--samples K``: RULER scores of a model, per task and length, in ``OUTPUT/summary.json``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from herd.core.errors import ConfigError
from herd.core.protocols import Generator
from herd.plugins.long_context.evaluation import evaluate_long_context
from herd.lib.long_context.tasks import parse_lengths, parse_tasks
from herd.lib.long_context.token_counter import TokenCounter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, required=True,
                        help="model directory (herd or Hugging Face format, with its tokenizer)")
    parser.add_argument("--tasks", default="niah_single_1,niah_single_2,vt", help="comma-separated RULER tasks")
    parser.add_argument("--lengths", default="4096", help="comma-separated lengths in tokens")
    parser.add_argument("--samples", type=int, default=20, help="samples per task and length")
    parser.add_argument("--generator", default="local",
                        help="registered generator: local, hf, or openai (an endpoint serving the model)")
    parser.add_argument("--tokenizer", type=Path, help="tokenizer to size samples with (default: the model's)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=Path("eval_long"), help="directory for predictions and summary.json")


def build_generator(app, backend: str, model_dir: Path) -> Generator:
    """The registered ``backend`` generator; pointed at ``model_dir`` when it loads model
    directories (``local``, ``hf``), as configured when it serves a fixed model (``openai``)."""
    component = app.registry.get("generators", backend)
    cfg = app.config.component("generators", backend)
    if cfg is None and component.config is not None:
        cfg = component.config()
    if cfg is not None and hasattr(cfg, "model_path"):
        cfg = dataclasses.replace(cfg, model_path=str(model_dir))
    return component.factory(cfg)


def run(args: argparse.Namespace, app) -> int:
    tasks, lengths = parse_tasks(args.tasks), parse_lengths(args.lengths)
    if args.samples < 1:
        raise ConfigError(f"--samples {args.samples}: must be at least 1")
    if not args.model.is_dir():
        raise ConfigError(f"--model {args.model}: not a model directory")
    counter = TokenCounter.load(args.tokenizer or args.model)
    generator = build_generator(app, args.generator, args.model)
    summary = evaluate_long_context(generator, counter, tasks, lengths, args.samples, args.seed, args.output,
                                    model=str(args.model))
    print(json.dumps({**summary.to_dict(), "summary": str(args.output / "summary.json")}))
    return 0
