"""The torch backend's torchrun entry point: ``python -m herd.plugins.torch_trainer.worker JOB.json``
(the ``pretrain`` stage writes the job and launches it; a killed run is resumed with it)."""

from __future__ import annotations

import sys

from herd.lib.training.launch import run_job_file


def main(argv: list[str]) -> int:
    from herd.plugins.torch_trainer.config import TorchTrainerConfig
    from herd.plugins.torch_trainer.trainer import TorchTrainer

    return run_job_file(argv, "herd.plugins.torch_trainer.worker",
                        lambda fields: TorchTrainer(TorchTrainerConfig(**fields)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
