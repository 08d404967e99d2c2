"""``python cli.py train-quality-classifier``: train the fastText quality classifier."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--positive", type=Path, help="high-quality examples: .jsonl (text field) or one per line")
    parser.add_argument("--negative", type=Path, help="low-quality examples (e.g. random web text)")
    parser.add_argument("--labels", type=Path, help='labels JSONL {"text": ..., "label": 1|0} (e.g. from a judge)')
    parser.add_argument("--output", type=Path, required=True, help="where to write MODEL.bin")
    parser.add_argument("--epoch", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--word-ngrams", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quantize", action="store_true", help="write a much smaller quantized model")


def run(args: argparse.Namespace, app) -> int:
    from herd.core.errors import InputError
    from herd.plugins.curation_steps.quality import train_quality_classifier

    if args.labels is None and (args.positive is None or args.negative is None):
        raise InputError("train-quality-classifier needs --positive and --negative, or --labels")
    result = train_quality_classifier(args.output, positive=args.positive, negative=args.negative,
                                      labels=args.labels, epoch=args.epoch, lr=args.lr, dim=args.dim,
                                      word_ngrams=args.word_ngrams, seed=args.seed, quantize=args.quantize)
    accuracy = "n/a" if result.validation_accuracy is None else f"{result.validation_accuracy:.3f}"
    print(f"wrote {result.model} ({result.examples} examples: {result.positives} positive, "
          f"{result.negatives} negative; held-out accuracy {accuracy})")
    return 0
