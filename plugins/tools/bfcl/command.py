"""``python cli.py eval-tools --questions Q.jsonl --answers A.jsonl (--responses R.jsonl |
--model M) --output O.json``: BFCL's AST accuracy per category, and a verdict with its
reason for every question."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from herd.core.atomic import write_json
from herd.core.errors import ConfigError
from herd.core.services import build_generator
from herd.plugins.tools.bfcl.generation import generate_responses
from herd.plugins.tools.bfcl.rows import read_answers, read_questions, read_responses
from herd.plugins.tools.bfcl.scoring import score


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", type=Path, required=True, help="BFCL question rows (id, question, function)")
    parser.add_argument("--answers", type=Path, required=True, help="BFCL possible-answer rows (id, ground_truth)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--responses", type=Path, help="response rows (id, response: the model's raw text)")
    source.add_argument("--model", type=Path, help="a model directory: generate the responses with --generator")
    parser.add_argument("--generator", default="local", help="registered generator that loads --model (local, hf)")
    parser.add_argument("--max-tokens", type=int, default=256, help="tokens per generated response")
    parser.add_argument("--output", type=Path, required=True, help="where the accuracy and verdicts go (JSON)")


def run(args: argparse.Namespace, app) -> int:
    if args.max_tokens < 1:
        raise ConfigError(f"--max-tokens {args.max_tokens}: must be at least 1")
    questions = read_questions(args.questions)
    answers = read_answers(args.answers)
    if args.responses is not None:
        responses = read_responses(args.responses)
    else:
        if not args.model.is_dir():
            raise ConfigError(f"--model {args.model}: not a model directory")
        generator = build_generator(app.registry, app.config, args.generator, args.model)
        responses = generate_responses(generator, questions, args.max_tokens).responses
        responses_path = args.output.with_suffix(".responses.jsonl")
        responses_path.parent.mkdir(parents=True, exist_ok=True)
        responses_path.write_text("".join(json.dumps({"id": r.id, "response": r.text}, ensure_ascii=False) + "\n"
                                          for r in responses.values()), encoding="utf-8")
    evaluation = score(questions, answers, responses)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.output, evaluation.to_dict())
    summary = {"accuracy": evaluation.to_dict()["accuracy"], "questions": len(questions),
               "malformed": sum(v.malformed for v in evaluation.verdicts), "output": str(args.output)}
    print(json.dumps(summary))
    return 0
