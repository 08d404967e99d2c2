"""The ``nemo`` trainer under torchrun (gloo on CPU): every layout follows the single-process
loss curve, and context parallelism's sequence sharding."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("nemo_automodel")

from herd.core.protocols import ParallelSizes  # noqa: E402

# All layouts run the same fp32 arithmetic on the same global batch; only the order of
# floating-point reductions differs (measured: identical to 4 decimals).
TOLERANCE = 2e-3


@pytest.fixture(scope="module")
def single(token_data, nemo_job, run_train, read_losses, tmp_path_factory):
    job = nemo_job(token_data, tmp_path_factory.mktemp("single") / "run", initial_tokens=1024)
    run_train(job)
    return read_losses(job.output_dir)


@pytest.mark.slow
@pytest.mark.parametrize("layout", [{"dp": 2}, {"tp": 2}, {"pp": 2}, {"tp": 2, "pp": 2}, {"dp": 2, "tp": 2}],
                         ids=["dp2", "tp2", "pp2", "tp2xpp2", "dp2xtp2"])
def test_parallel_layouts_match_single_process(token_data, nemo_job, run_train, read_losses, tmp_path, single,
                                               layout):
    job = nemo_job(token_data, tmp_path / "run", initial_tokens=1024, parallel=ParallelSizes(**layout))
    run_train(job)
    got = read_losses(job.output_dir)
    assert len(got) == len(single) == 6  # 4 steps of 8 x 16 tokens, then the ramp: 2 of 8 x 32
    assert got == pytest.approx(single, abs=TOLERANCE)


CP_SHARDS = """
import torch, torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from herd.plugins.nemo.distributed import cp_shard
dist.init_process_group("gloo")
mesh = init_device_mesh("cpu", (2,), mesh_dim_names=("cp",))["cp"]
row = torch.arange(16).unsqueeze(0)
local = cp_shard(row, mesh)
parts = [None, None]
dist.all_gather_object(parts, local.tolist())
if dist.get_rank() == 0:
    print(parts)
try:
    cp_shard(torch.arange(6).unsqueeze(0), mesh)
except Exception as exc:
    if dist.get_rank() == 0:
        print(type(exc).__name__, exc)
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_context_parallel_shards_are_load_balanced(tmp_path):
    script = tmp_path / "cp.py"
    script.write_text(CP_SHARDS)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(script)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    shards, error = done.stdout.strip().splitlines()
    # 16 tokens in 2 x cp = 4 chunks of 4: rank 0 gets the first and last chunk, rank 1 the middle two
    assert shards == str([[[0, 1, 2, 3, 12, 13, 14, 15]], [[4, 5, 6, 7, 8, 9, 10, 11]]])
    assert error.startswith("ConfigError") and "not divisible by 2 x cp = 4" in error


@pytest.mark.gpu
def test_context_parallel_trains_on_gpus(token_data, nemo_job, run_train, read_losses, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.device_count() < 2:
        pytest.skip("context parallelism needs 2 CUDA GPUs (ring attention has no CPU kernel)")
    job = nemo_job(token_data, tmp_path / "run", initial_tokens=1024, parallel=ParallelSizes(cp=2))
    run_train(job)
    got = read_losses(job.output_dir)
    assert len(got) == 6 and got[-1] < got[0]
