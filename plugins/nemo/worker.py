"""One rank of a local ``nemo`` job: ``python -m herd.plugins.nemo.worker JOB.json``.

``NemoTrainer`` writes ``JOB.json`` (``{"job": TrainJob, "trainer": [trainers.nemo]}``) and
starts this module on every process with torchrun; rank 0 writes the result to
``<output_dir>/result.json``. Running it again with ``"resume": true`` in the job resumes
a killed run from its last complete checkpoint."""

from __future__ import annotations

import sys

from herd.lib.training.launch import run_job_file


def main(argv: list[str]) -> int:
    from herd.plugins.nemo.config import NemoTrainerConfig
    from herd.plugins.nemo.trainer import NemoTrainer

    return run_job_file(argv, "herd.plugins.nemo.worker", lambda fields: NemoTrainer(NemoTrainerConfig(**fields)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
