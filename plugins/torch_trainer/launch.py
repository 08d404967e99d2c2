"""Run one ``TrainJob`` from a JSON file: ``python -m herd.plugins.torch_trainer.launch JOB.json``.

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

from herd.core.atomic import write_json
from herd.plugins.torch_trainer.config import TorchTrainerConfig
from herd.plugins.torch_trainer.trainer import TorchTrainer, job_from_dict


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m herd.plugins.torch_trainer.launch JOB.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    job = job_from_dict(spec["job"])
    result = TorchTrainer(TorchTrainerConfig(**spec.get("trainer", {}))).train(job)
    if int(os.environ.get("RANK", "0")) == 0:
        write_json(job.output_dir / "result.json", {"checkpoint": str(result.checkpoint), "metrics": result.metrics})
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
