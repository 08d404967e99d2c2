"""``herd train``: train the config's ``[pretrain]`` section through a NeMo-Run job on the
local machine (torchrun), Docker, Slurm, Kubernetes or SkyPilot, or print that job
(``--dry-run``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from herd.core.errors import StageError
from herd.plugins.nemo.config import ENGINES, EXECUTORS

BACKENDS = ("nemo", "torch")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, help="trainer backend (default: pretrain.trainer)")
    parser.add_argument("--executor", choices=EXECUTORS, help="default: nemo.executor")
    parser.add_argument("--engine", choices=ENGINES, help="default: nemo.engine (megatron-bridge: beyond ~1,000 GPUs)")
    parser.add_argument("--run-dir", type=Path, help="job files and checkpoints (default runs/<run.name>)")
    parser.add_argument("--dry-run", action="store_true", help="print the full job instead of submitting it")
    parser.add_argument("--json", action="store_true", help="with --dry-run: the job as one JSON object")


def run(args: argparse.Namespace, app) -> int:
    from herd.plugins.nemo.launch import build_nemo_job, job_summary, submit

    if args.backend:
        # The job's herd.toml is this config: its ranks train with the chosen backend.
        app.config.section("pretrain").trainer = args.backend
    run_dir = args.run_dir or Path(app.config.run.runs_dir) / app.config.run.name
    job = build_nemo_job(app.config, args.executor, args.dry_run, run_dir=run_dir, engine=args.engine)
    if not args.dry_run:
        app.log.info("submitting the %s job (%d node(s) x %d process(es)); files in %s",
                     job.executor, job.nodes, job.processes_per_node, job.job_dir)
        state = submit(job)
        if state in ("FAILED", "CANCELLED", "UNKNOWN"):
            raise StageError(f"train: the {job.executor} job ended {state}; its logs are under {job.job_dir}")
        app.log.info("train: the %s job is %s", job.executor, state)
        return 0
    if args.json:
        print(json.dumps(job.to_dict(), indent=2))
        return 0
    print(job_summary(job))
    for name, text in job.files.items():
        print(f"\n--- {job.job_dir / name} ---\n{text}", end="")
    print(f"\n--- {job.executor} job as NeMo-Run would submit it ---\n{job.rendered}")
    return 0
