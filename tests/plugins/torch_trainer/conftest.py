from pathlib import Path

import pytest

from herd.core.protocols import ParallelSizes, TrainJob, TrainStage


def _make_job(d: Path, out: Path, *, initial_tokens=4096, long=True, anneal=True, parallel=None) -> TrainJob:
    stages = [TrainStage("initial", "initial", initial_tokens, 16, 3e-3, 3e-4, batch_tokens=128,
                         batch_ramp=[(1024, 256, 32)], warmup_steps=3)]
    if long:
        stages.append(TrainStage("long_64", "long_context", 512, 64, 3e-4, 3e-4, data=d / "long", batch_tokens=256,
                                 extra={"max_tokens": 1024, "eval_every": 2, "niah_trials": 2}))
    if anneal:
        stages.append(TrainStage("anneal", "anneal", 1024, 64, 3e-4, 0.0, batch_tokens=256))
    return TrainJob({"size": "tiny", "vocab_size": 320}, stages, parallel or ParallelSizes(), out, d / "train",
                    eval_dir=d / "val", tokenizer=d / "tok", seed=3)


@pytest.fixture(scope="session")
def make_job():
    """``make_job(token_dir, out_dir, ...)`` -> a small three-stage ``TrainJob``."""
    return _make_job
