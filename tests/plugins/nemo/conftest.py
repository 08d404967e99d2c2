import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from herd.core.protocols import ParallelSizes, TrainJob, TrainStage

# [trainers.nemo] / [trainers.torch] knobs shared by both backends in these tests.
TRAINER = {"threads": 1, "checkpoint_every": 4, "average_every": 2, "eval_rows": 4, "keep_checkpoints": 20}


def make_job(d: Path, out: Path, *, initial_tokens=2048, long=False, anneal=False, parallel=None) -> TrainJob:
    """Initial pretraining with a batch/sequence ramp, optionally long-context and annealing."""
    stages = [TrainStage("initial", "initial", initial_tokens, 16, 3e-3, 3e-4, batch_tokens=128,
                         batch_ramp=[(initial_tokens // 2, 256, 32)], warmup_steps=3)]
    if long:
        stages.append(TrainStage("long_64", "long_context", 512, 64, 3e-4, 3e-4, data=d / "long", batch_tokens=256,
                                 extra={"max_tokens": 1024, "eval_every": 2, "niah_trials": 2}))
    if anneal:
        stages.append(TrainStage("anneal", "anneal", 1024, 64, 3e-4, 0.0, batch_tokens=256))
    return TrainJob({"size": "tiny", "vocab_size": 320}, stages, parallel or ParallelSizes(), out, d / "train",
                    eval_dir=d / "val", tokenizer=d / "tok", seed=3)


def run_job(job: TrainJob, backend: str = "nemo", trainer: dict | None = None, check: bool = True,
            popen: bool = False):
    """Run ``job`` in a fresh process (under torchrun when it has several ranks), the way the
    backends' own entry points do."""
    from herd.lib.training.job_io import job_to_dict

    out = Path(job.output_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = out.parent / f"{out.name}.json"
    spec.write_text(json.dumps({"job": job_to_dict(job), "trainer": {**TRAINER, **(trainer or {})}}))
    module = {"nemo": "herd.plugins.nemo.worker", "torch": "herd.plugins.torch_trainer.worker"}[backend]
    cmd = [sys.executable, "-m", module, str(spec)]
    if job.parallel.world_size > 1:
        cmd[1:2] = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={job.parallel.world_size}", "-m"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if popen:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def losses(out: Path) -> list[float]:
    return [json.loads(x)["loss"] for x in (out / "metrics.jsonl").read_text().splitlines() if '"loss"' in x]


@pytest.fixture(scope="session")
def nemo_job():
    """``nemo_job(token_dir, out_dir, ...)`` -> a small ``TrainJob`` (see ``make_job``)."""
    return make_job


@pytest.fixture(scope="session")
def run_train():
    """``run_train(job, backend="nemo", trainer=None, check=True, popen=False)``."""
    return run_job


@pytest.fixture(scope="session")
def read_losses():
    return losses
