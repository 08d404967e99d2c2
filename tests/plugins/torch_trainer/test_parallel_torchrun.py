"""FSDP2 data parallel and DTensor tensor parallel under torchrun (gloo on CPU) follow the
single-process loss curve."""

import json
import os
import subprocess
import sys

import pytest

from herd.core.protocols import ParallelSizes
from herd.lib.training.job_io import job_to_dict

TRAINER = {"threads": 1, "checkpoint_every": 4, "average_every": 2, "eval_rows": 4}


def run(token_data, make_job, out, parallel):
    job = make_job(token_data, out, initial_tokens=2048, long=False, parallel=parallel)
    spec = out.parent / f"{out.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps({"job": job_to_dict(job), "trainer": TRAINER}))
    cmd = [sys.executable, "-m", "herd.plugins.torch_trainer.worker", str(spec)]
    if parallel.world_size > 1:
        cmd[1:2] = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={parallel.world_size}", "-m"]
    done = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [json.loads(x)["loss"] for x in lines if '"loss"' in x]


@pytest.fixture(scope="module")
def single(token_data, make_job, tmp_path_factory):
    return run(token_data, make_job, tmp_path_factory.mktemp("single") / "run", ParallelSizes())


@pytest.mark.slow
@pytest.mark.parametrize("layout", [{"dp": 2}, {"tp": 2}, {"dp": 2, "tp": 2}], ids=["dp2", "tp2", "dp2xtp2"])
def test_parallel_layouts_match_single_process(token_data, make_job, tmp_path, single, layout):
    losses = run(token_data, make_job, tmp_path / "run", ParallelSizes(**layout))
    assert len(losses) == len(single) == 16
    assert losses == pytest.approx(single, abs=2e-3)
    assert losses[-1] < losses[0] - 1.0
