"""Run one ``TrainJob`` from a JSON file: what each backend's torchrun entry point
(``python -m herd.plugins.torch_trainer.worker JOB.json``, ``herd.plugins.nemo.worker``) calls.

This is the entry point ``torchrun`` starts on every process for multi-process runs (the
``pretrain`` stage writes the job and launches it), and what a killed run is resumed with.
``JOB.json`` holds ``{"job": ..., "trainer": {...TorchTrainerConfig fields}}``; the result
is written by rank 0 to ``<output_dir>/result.json``.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import subprocess
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
    rank = int(os.environ.get("RANK", "0"))
    # Rank 0's records reach the launching process (``run_torchrun``), which logs them as
    # its own: step lines on its console, DEBUG detail in its log.txt. Other ranks only warn.
    logging.basicConfig(level=logging.DEBUG if rank == 0 else logging.WARNING,
                        format=f"{RECORD_PREFIX}%(levelname)s|%(name)s|" + ("" if rank == 0 else f"rank {rank}: ")
                        + "%(message)s")
    result_path, result = run(spec)
    if int(os.environ.get("RANK", "0")) == 0:
        write_json(result_path, result)
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


RECORD_PREFIX = "herd-log|"


def run_torchrun(cmd: list[str], log: logging.Logger, env: dict[str, str] | None = None,
                 tail_lines: int = 60) -> tuple[int, str]:
    """Run a torchrun command, passing its ranks' log records to ``log`` as they come
    (herd's at their own level, so step lines show live; any other output at DEBUG, so it
    reaches log.txt only). Returns the exit code and the output's last ``tail_lines``."""
    tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                          bufsize=1) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            tail.append(line)
            level, message = _record(line)
            log.log(level, "%s", message)
    return proc.returncode, "\n".join(tail)


def _record(line: str) -> tuple[int, str]:
    if not line.startswith(RECORD_PREFIX):
        return logging.DEBUG, line
    parts = line[len(RECORD_PREFIX):].split("|", 2)
    if len(parts) != 3:
        return logging.DEBUG, line
    level_name, name, message = parts
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        return logging.DEBUG, line
    return (level if name.startswith("herd") or level >= logging.WARNING else logging.DEBUG), message


def run_job_file(argv: list[str], module: str, make_trainer: Callable[[dict[str, Any]], Any]) -> int:
    """One rank of a ``TrainJob``: train it with ``make_trainer(spec["trainer"])``; rank 0
    writes ``<output_dir>/result.json``."""

    def train(spec: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        job = job_from_dict(spec["job"])
        result = make_trainer(spec.get("trainer", {})).train(job)
        return job.output_dir / "result.json", {"checkpoint": str(result.checkpoint), "metrics": result.metrics}

    return run_rank(argv, module, train)
