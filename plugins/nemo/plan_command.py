"""``herd plan``: print the planner's layout for a model, sequence length and GPU count."""

from __future__ import annotations

import argparse
import json

from herd.plugins.nemo.planner import MODELS, Hardware, InfeasibleLayout, format_plan, plan_layout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, choices=sorted(MODELS), help="docs/recipe.md section 2 size")
    parser.add_argument("--seq", type=int, required=True, help="sequence length in tokens")
    parser.add_argument("--gpus", type=int, required=True, help="number of GPUs")
    parser.add_argument("--gpu-memory", type=float, default=80.0, help="GiB per GPU (default 80, H100)")
    parser.add_argument("--batch-tokens", type=int, default=16 * 2**20,
                        help="global batch in tokens (default 16M, docs/recipe.md section 4)")
    parser.add_argument("--gpus-per-node", type=int, default=8, help="GPUs per server joined by NVLink")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def run(args: argparse.Namespace, app) -> int:
    hardware = Hardware(gpus_per_node=args.gpus_per_node)
    try:
        plan = plan_layout(args.model, args.seq, args.gpus, args.gpu_memory,
                           batch_tokens=args.batch_tokens, hardware=hardware)
    except InfeasibleLayout as exc:
        if args.json:
            print(json.dumps({"error": exc.reason,
                              "nearest": exc.nearest.to_dict() if exc.nearest else None}, indent=2))
        raise
    print(json.dumps(plan.to_dict(), indent=2) if args.json else format_plan(plan))
    return 0
