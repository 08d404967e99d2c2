"""``python cli.py eval-math --model M [--generator local] --problems N --samples K
--output O.json``: pass@1 and maj@k of a model on the plugin's held-out problems, and each
problem's answers and verdicts."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from herd.core.atomic import write_json
from herd.core.errors import ConfigError
from herd.core.services import build_generator
from herd.plugins.math.config import MathEvalConfig
from herd.plugins.math.evaluation import evaluate, held_out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = MathEvalConfig()
    parser.add_argument("--model", type=Path, required=True, help="a model directory")
    parser.add_argument("--generator", default=defaults.generator, help="registered generator that loads --model")
    parser.add_argument("--problems", type=int, default=defaults.problems, help="held-out problems to ask")
    parser.add_argument("--samples", type=int, default=defaults.samples, help="k of maj@k: sampled answers per problem")
    parser.add_argument("--temperature", type=float, default=defaults.temperature, help="of the k samples")
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens, help="tokens per answer")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="which held-out problems, and the sampling")
    parser.add_argument("--output", type=Path, required=True, help="where the metrics and per-problem verdicts go (JSON)")


def run(args: argparse.Namespace, app) -> int:
    for flag, value in (("--problems", args.problems), ("--samples", args.samples), ("--max-tokens", args.max_tokens)):
        if value < 1:
            raise ConfigError(f"{flag} {value}: must be at least 1")
    if args.temperature < 0:
        raise ConfigError(f"--temperature {args.temperature}: must be 0 or more")
    if not args.model.is_dir():
        raise ConfigError(f"--model {args.model}: not a model directory")
    base = app.config.component("evaluators", "math") or MathEvalConfig()
    cfg = dataclasses.replace(base, problems=args.problems, samples=args.samples, temperature=args.temperature,
                              max_tokens=args.max_tokens, seed=args.seed, generator=args.generator)
    generator = build_generator(app.registry, app.config, cfg.generator, args.model)
    evaluation = evaluate(generator, held_out(cfg), cfg)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.output, evaluation.to_dict())
    print(json.dumps({**evaluation.metrics(), "output": str(args.output)}))
    return 0
