"""One rank of a post-training job: ``python -m herd.lib.posttraining.worker JOB.json``
(``run_post_train_job`` writes the file and starts this under torchrun)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    from herd.lib.posttraining.job_io import job_from_dict, result_to_dict
    from herd.lib.posttraining.launch import RESULT, build_trainer
    from herd.lib.training.launch import run_rank

    def post_train(spec: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        job = job_from_dict(spec["job"])
        trainer = build_trainer(spec["trainer"], config_fields=spec.get("trainer_config") or {})
        return Path(job.output_dir) / RESULT, result_to_dict(trainer.post_train(job))

    return run_rank(argv, "herd.lib.posttraining.worker", post_train)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
