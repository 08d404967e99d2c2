"""One rank of a post-training job: ``python -m herd.lib.posttraining.worker JOB.json``
(``run_post_train_job`` writes the file and starts this under torchrun)."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m herd.lib.posttraining.worker JOB.json", file=sys.stderr)
        return 2
    from herd.core.atomic import write_json
    from herd.lib.posttraining.job_io import job_from_dict, result_to_dict
    from herd.lib.posttraining.launch import RESULT, build_trainer

    spec = json.loads(Path(argv[0]).read_text())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    job = job_from_dict(spec["job"])
    trainer = build_trainer(spec["trainer"], config_fields=spec.get("trainer_config") or {})
    result = trainer.post_train(job)
    if int(os.environ.get("RANK", "0")) == 0:
        write_json(Path(job.output_dir) / RESULT, result_to_dict(result))
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
