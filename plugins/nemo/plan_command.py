"""``herd plan``: print the planner's layout for a model (a named size, its shape, or a
Hugging Face ``config.json``), a sequence length and a GPU count, with the ``--set``
lines that apply it."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from herd.core.errors import ConfigError
from herd.plugins.nemo.planner import (
    BACKENDS,
    MODELS,
    Hardware,
    InfeasibleLayout,
    ModelShape,
    checked_shape,
    format_plan,
    model_from_hf_config,
    model_shape,
    plan_layout,
    set_lines,
)

SHAPE = {"layers": "n_layers", "hidden": "dim", "ffn": "ffn_dim", "heads": "n_heads", "kv_heads": "n_kv_heads",
         "vocab": "vocab_size"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", choices=sorted(MODELS), help="a docs/recipe.md section 2 size")
    model.add_argument("--hf-config", help="a Hugging Face config.json of a Llama-style model")
    model.add_argument("--shape", action="store_true",
                       help="give the shape: --layers --hidden --heads --kv-heads --ffn --vocab")
    for flag in SHAPE:
        parser.add_argument(f"--{flag.replace('_', '-')}", type=int, dest=flag, help="with --shape")
    parser.add_argument("--seq", type=int, required=True, help="sequence length in tokens")
    parser.add_argument("--gpus", type=int, required=True, help="number of GPUs")
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="nemo",
                        help="plan only layouts this trainer runs (default nemo)")
    parser.add_argument("--gpu-memory", type=float, default=80.0, help="GiB per GPU (default 80, H100)")
    parser.add_argument("--memory-fraction", type=float, default=Hardware.memory_fraction,
                        help="plan for at most this share of GPU memory (default 0.9)")
    parser.add_argument("--batch-tokens", type=int, default=16 * 2**20,
                        help="global batch in tokens (default 16M, docs/recipe.md section 4)")
    parser.add_argument("--gpus-per-node", type=int, default=8, help="GPUs per server joined by NVLink")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def chosen_model(args: argparse.Namespace) -> ModelShape:
    if args.model:
        return model_shape(args.model)
    if args.hf_config:
        return model_from_hf_config(args.hf_config)
    missing = [f"--{flag.replace('_', '-')}" for flag in SHAPE if getattr(args, flag) is None]
    if missing:
        raise ConfigError(f"plan --shape needs {', '.join(missing)}")
    return checked_shape(ModelShape(name="custom", **{key: getattr(args, flag) for flag, key in SHAPE.items()}))


def run(args: argparse.Namespace, app) -> int:
    model = chosen_model(args)
    hardware = replace(Hardware(gpus_per_node=args.gpus_per_node), memory_fraction=args.memory_fraction)
    try:
        plan = plan_layout(model, args.seq, args.gpus, args.gpu_memory, batch_tokens=args.batch_tokens,
                           hardware=hardware, backend=args.backend)
    except InfeasibleLayout as exc:
        if args.json:
            print(json.dumps({"error": exc.reason,
                              "nearest": exc.nearest.to_dict() if exc.nearest else None}, indent=2))
        raise
    if args.json:
        print(json.dumps({**plan.to_dict(), "set": set_lines(plan, model)}, indent=2))
    else:
        print(format_plan(plan, model))
    return 0
