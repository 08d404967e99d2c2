"""One rank of a local ``nemo`` job: ``python -m herd.plugins.nemo.worker JOB.json``.

``NemoTrainer`` writes ``JOB.json`` (``{"job": TrainJob, "trainer": [trainers.nemo]}``) and
starts this module on every process with torchrun; rank 0 writes the result to
``<output_dir>/result.json``. Running it again with ``"resume": true`` in the job resumes
a killed run from its last complete checkpoint."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from herd.core.atomic import write_json
from herd.plugins.nemo.config import NemoTrainerConfig
from herd.plugins.torch_trainer.trainer import job_from_dict


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m herd.plugins.nemo.worker JOB.json", file=sys.stderr)
        return 2
    from herd.plugins.nemo.trainer import NemoTrainer

    spec = json.loads(Path(argv[0]).read_text())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    job = job_from_dict(spec["job"])
    result = NemoTrainer(NemoTrainerConfig(**spec.get("trainer", {}))).train(job)
    if int(os.environ.get("RANK", "0")) == 0:
        write_json(job.output_dir / "result.json", {"checkpoint": str(result.checkpoint), "metrics": result.metrics})
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
