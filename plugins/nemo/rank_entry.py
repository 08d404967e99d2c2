"""Every rank of a cluster ``nemo`` job: ``python -m herd.plugins.nemo.rank_entry HERD_ARGS...``.

A cluster launcher (NeMo-Run's torchrun on Slurm, Kubeflow, SkyPilot) starts the same
command on every rank. If every rank ran ``herd run --stages pretrain`` they would all
tokenise the corpus and write the stage's manifests, tokens and job files into the
shared run directory at once. Instead only global rank 0 runs herd's pipeline; when its
``pretrain`` stage reaches the ``nemo`` trainer, rank 0 broadcasts the ``TrainJob`` and the
trainer config over the job's process group, and the other ranks, waiting for exactly
that, train it with rank 0 as pure trainer workers (they write nothing shared: the
trainer's files are written by rank 0 only). When rank 0's pipeline ends without
training (the stage was already complete, or failed before training), it broadcasts
``None`` and the others exit.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict

ENV = "HERD_NEMO_RANK_ENTRY"
_shared = False


def share_job(job, cfg, layout) -> None:
    """Called by ``NemoTrainer`` on every rank once the process group exists: rank 0 of a
    rank-entry job hands the job to the waiting ranks (a no-op everywhere else)."""
    global _shared
    if os.environ.get(ENV) != "1" or layout.rank != 0 or _shared:
        return
    from herd.lib.training.job_io import job_to_dict

    _broadcast({"job": job_to_dict(job), "trainer": asdict(cfg)})
    _shared = True


def _broadcast(payload) -> object:
    import torch.distributed as dist

    box = [payload]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def main(argv: list[str]) -> int:
    from herd.plugins.nemo.config import NemoTrainerConfig
    from herd.plugins.nemo.distributed import pick_device, start_process_group

    os.environ[ENV] = "1"
    timeout = NemoTrainerConfig().dist_timeout_minutes
    rank = int(os.environ.get("RANK", "0"))
    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        from herd.cli import main as herd_main

        return herd_main(argv)
    start_process_group(pick_device(NemoTrainerConfig()), int(os.environ.get("HERD_NEMO_WAIT_MINUTES", timeout)))
    try:
        return _run_rank(rank, argv)
    finally:
        import torch.distributed as dist

        # Left to interpreter exit, the process group's threads can be torn down while
        # still joinable ("terminate called without an active exception", SIGABRT).
        if dist.is_initialized():
            dist.destroy_process_group()


def _run_rank(rank: int, argv: list[str]) -> int:
    from herd.plugins.nemo.config import NemoTrainerConfig

    if rank == 0:
        from herd.cli import main as herd_main

        try:
            code = herd_main(argv)
        finally:
            if not _shared:
                _broadcast(None)  # release the waiting ranks
        return code
    spec = _broadcast(None)
    if spec is None:
        return 0
    from herd.plugins.nemo.trainer import NemoTrainer
    from herd.lib.training.job_io import job_from_dict

    NemoTrainer(NemoTrainerConfig(**spec["trainer"])).train(job_from_dict(spec["job"]))
    return 0


if __name__ == "__main__":
    # Run main() in the imported module, whose _shared the trainer sets (not in __main__'s copy).
    from herd.plugins.nemo.rank_entry import main as imported_main

    sys.exit(imported_main(sys.argv[1:]))
