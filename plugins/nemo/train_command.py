"""``herd train``: train the config's ``[pretrain]`` section through NeMo-Run jobs on the
local machine (torchrun), Docker, Slurm, Kubernetes or SkyPilot, or print those jobs
(``--dry-run``, which writes nothing)."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from herd.core.errors import StageError
from herd.plugins.nemo.config import ENGINES, EXECUTORS

BACKENDS = ("nemo", "torch")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, help="trainer backend (default: pretrain.trainer)")
    parser.add_argument("--executor", choices=EXECUTORS, help="default: nemo.executor")
    parser.add_argument("--engine", choices=ENGINES, help="default: nemo.engine (megatron-bridge: beyond ~1,000 GPUs)")
    parser.add_argument("--run-dir", type=Path, help="job files and checkpoints (default runs/<run.name>)")
    parser.add_argument("--dry-run", action="store_true", help="print the jobs instead of submitting them; writes nothing")
    parser.add_argument("--show-config", action="store_true", help="with --dry-run: also print each job's config file")
    parser.add_argument("--json", action="store_true", help="with --dry-run: the jobs as one JSON object")


def run(args: argparse.Namespace, app) -> int:
    from herd.plugins.nemo.launch import build_nemo_jobs, submit

    if args.backend:
        # The job's config is this config: its ranks train with the chosen backend.
        app.config.section("pretrain").trainer = args.backend
    run_dir = args.run_dir or Path(app.config.run.runs_dir) / app.config.run.name
    jobs = build_nemo_jobs(app.config, app.registry, args.executor, args.dry_run, run_dir=run_dir,
                           engine=args.engine)
    if not args.dry_run or args.json:  # the dry run's own text starts with them
        for warning in jobs.warnings:
            app.log.warning("%s", warning)
    if not args.dry_run:
        train = jobs.train
        app.log.info("submitting %s; files in %s", ", ".join(j.name for j in jobs.jobs), train.job_dir)
        state = submit(jobs)
        if state in ("FAILED", "CANCELLED", "UNKNOWN"):
            raise StageError(f"train: the {train.executor} job {train.name} ended {state}; "
                             f"its logs are under {train.job_dir}")
        app.log.info("train: the %s job %s is %s", train.executor, train.name, state)
        return 0
    if args.json:
        print(json.dumps(jobs.to_dict(), indent=2))
        return 0
    print(describe(jobs, args.show_config))
    return 0


def describe(jobs, show_config: bool = False) -> str:
    """The jobs first (name, stages, size, image, command), then what the scheduler gets;
    the config files only when asked for."""
    out = [f"dry run: {len(jobs.jobs)} job(s), nothing written or submitted"]
    for warning in jobs.warnings:
        out.append(f"WARNING: {warning}")
    for job in jobs.jobs:
        gpus = f"{job.gpus_per_node} GPU(s)" if job.gpus_per_node else "no GPUs"
        parallel = " x ".join(f"{k.upper()} {v}" for k, v in job.parallel.items()) or "-"
        config = ", ".join(str(job.job_dir / name) for name in job.files)
        out += [
            "",
            f"job {job.name} ({job.executor}" + (f", after {', '.join(job.after)})" if job.after else ")"),
            f"  stages   {', '.join(job.stages)}",
            f"  nodes    {job.nodes} x {gpus}, {job.processes_per_node} process(es) per node ({parallel})",
            f"  image    {job.container_image or '(none: runs here)'}",
            f"  command  {shlex.join(job.command)}",
            f"  files    {config} (written on submission; --show-config prints them)",
        ]
    for job in jobs.jobs:
        out.append(f"\n--- {job.name}: the {job.executor} job as NeMo-Run would submit it ---\n{job.rendered.rstrip()}")
        if show_config:
            for name, text in job.files.items():
                out.append(f"\n--- {job.job_dir / name} ---\n{text.rstrip()}")
    return "\n".join(out)
