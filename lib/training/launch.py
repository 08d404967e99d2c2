"""Run one ``TrainJob`` from a JSON file: what each backend's torchrun entry point
(``python -m herd.plugins.torch_trainer.worker JOB.json``, ``herd.plugins.nemo.worker``) calls.

This is the entry point ``torchrun`` starts on every process for multi-process runs (the
``pretrain`` stage writes the job and launches it), and what a killed run is resumed with.
``JOB.json`` holds ``{"job": ..., "trainer": {...TorchTrainerConfig fields}}``; the result
is written by rank 0 to ``<output_dir>/result.json``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable

from herd.core.atomic import write_json
from herd.lib.training.job_io import job_from_dict


def run_rank(argv: list[str], module: str, run: Callable[[dict[str, Any]], tuple[Path, dict[str, Any]]]) -> int:
    """One rank of a torchrun job: read ``JOB.json``, ``run(spec)`` it (it returns where the
    result goes and the result's JSON), write rank 0's result, leave the process group.
    ``module`` names the entry point in the usage line. Pretraining and post-training jobs
    both start here."""
    if len(argv) != 1:
        print(f"usage: python -m {module} JOB.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    result_path, result = run(spec)
    if int(os.environ.get("RANK", "0")) == 0:
        write_json(result_path, result)
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


def run_job_file(argv: list[str], module: str, make_trainer: Callable[[dict[str, Any]], Any]) -> int:
    """One rank of a ``TrainJob``: train it with ``make_trainer(spec["trainer"])``; rank 0
    writes ``<output_dir>/result.json``."""

    def train(spec: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        job = job_from_dict(spec["job"])
        result = make_trainer(spec.get("trainer", {})).train(job)
        return job.output_dir / "result.json", {"checkpoint": str(result.checkpoint), "metrics": result.metrics}

    return run_rank(argv, module, train)
