"""The ``nemo`` trainer under torchrun (gloo on CPU): every layout follows the single-process
loss curve, context parallelism included (with packed documents kept apart), and context
parallelism's sequence sharding."""

import json
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


def _metrics(out) -> list[tuple[float, float]]:
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return [(r["loss"], r["grad_norm"]) for r in rows if "grad_norm" in r]


@pytest.fixture(scope="module")
def single_metrics(token_data, nemo_job, run_train, tmp_path_factory):
    job = nemo_job(token_data, tmp_path_factory.mktemp("single_cp") / "run", initial_tokens=1024)
    run_train(job)
    return _metrics(job.output_dir)


@pytest.mark.slow
@pytest.mark.parametrize("layout", [{"cp": 2}, {"cp": 2, "pp": 2}], ids=["cp2", "cp2xpp2"])
def test_context_parallel_keeps_documents_apart(token_data, nemo_job, run_train, tmp_path, single_metrics, layout):
    """cp ranks on gloo follow the single-process run, whose attention stops at document
    boundaries: the packed rows of this data hold several documents, so attention across them
    (what ring attention's causal-only mask would do) changes the losses and gradient norms."""
    job = nemo_job(token_data, tmp_path / "run", initial_tokens=1024, parallel=ParallelSizes(**layout))
    run_train(job)
    got = _metrics(job.output_dir)
    assert len(got) == len(single_metrics) == 6
    assert [g[0] for g in got] == pytest.approx([s[0] for s in single_metrics], abs=TOLERANCE)
    # the gradient norm before clipping checks the loss scale: FSDP averages over dp x cp
    assert [g[1] for g in got] == pytest.approx([s[1] for s in single_metrics], rel=1e-2)


CP_SHARDS = """
import torch, torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from nemo_automodel.components.distributed.context_parallel.sharder import shard_sequence_for_cp_round_robin
from herd.plugins.nemo.cp_attention import CPShards
dist.init_process_group("gloo")
mesh = init_device_mesh("cpu", (2,), mesh_dim_names=("cp",))["cp"]
row = torch.arange(16).unsqueeze(0)
local = CPShards(2, dist.get_rank(), 16).take(row)
nemo, _, _ = shard_sequence_for_cp_round_robin(mesh, row, seq_dim=1)
parts = [None, None]
dist.all_gather_object(parts, (local.tolist(), torch.equal(local, nemo)))
if dist.get_rank() == 0:
    print(parts)
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_context_parallel_shards_match_nemo_sharder(tmp_path):
    script = tmp_path / "cp.py"
    script.write_text(CP_SHARDS)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(script)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    # 16 tokens in 2 x cp = 4 chunks of 4: rank 0 gets the first and last chunk, rank 1 the middle two,
    # as NeMo AutoModel's round-robin sharder (torch's ring-attention layout) cuts them
    assert done.stdout.strip() == str([([[0, 1, 2, 3, 12, 13, 14, 15]], True), ([[4, 5, 6, 7, 8, 9, 10, 11]], True)])
