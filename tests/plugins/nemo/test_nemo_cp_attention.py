"""Context parallelism that keeps packed documents apart (``cp_attention``): the load-balanced
sharding, the document-masked attention of simulated cp ranks against full-row attention, and
the same on real gloo ranks through the Hugging Face model."""

import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from herd.core.errors import ConfigError
from herd.lib.llama.model import document_mask, document_positions
from herd.plugins.nemo.cp_attention import CPShards, reassemble, sharded_document_attention, simulate_ranks

# 24 tokens, cp=3: 6 chunks of 4. Document 1 crosses the chunk 0|1 boundary (rank 0 | rank 1)
# and the 2|3 one (rank 2 | rank 2's second chunk); document 2 covers rank 0's last chunk too.
DOCS = torch.tensor([[0] * 3 + [1] * 10 + [2] * 11,
                     [7] * 24])  # one document over every shard


def reference(q, k, v, docs):
    groups = q.shape[1] // k.shape[1]
    return F.scaled_dot_product_attention(q, k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1),
                                          attn_mask=document_mask(docs))


def test_each_rank_holds_chunks_r_and_2cp_minus_1_minus_r():
    row = torch.arange(24).unsqueeze(0)
    assert [CPShards(3, r, 24).chunks for r in range(3)] == [(0, 5), (1, 4), (2, 3)]
    assert CPShards(3, 0, 24).take(row).tolist() == [[0, 1, 2, 3, 20, 21, 22, 23]]
    assert CPShards(3, 1, 24).take(row).tolist() == [[4, 5, 6, 7, 16, 17, 18, 19]]
    assert CPShards(3, 2, 24).take(row).tolist() == [[8, 9, 10, 11, 12, 13, 14, 15]]


def test_positions_and_documents_follow_their_tokens():
    positions = document_positions(DOCS)
    rank0 = CPShards(3, 0, 24)
    # positions restart per document in the full row, so a shard's positions continue its documents
    assert rank0.take(positions)[0].tolist() == [0, 1, 2, 0, 7, 8, 9, 10]
    assert rank0.take(DOCS)[0].tolist() == [0, 0, 0, 1, 2, 2, 2, 2]
    assert CPShards(3, 2, 24).take(positions)[1].tolist() == list(range(8, 16))


@pytest.mark.parametrize("cp", [1, 2, 3, 4])
def test_reassembling_the_shards_is_the_identity(cp):
    rows = torch.randn(2, 24, 5)
    parts = [CPShards(cp, r, 24).take(rows) for r in range(cp)]
    assert sum(p.shape[1] for p in parts) == 24
    assert torch.equal(reassemble(parts, cp), rows)


def test_a_row_that_does_not_split_into_2cp_chunks_is_refused():
    with pytest.raises(ConfigError, match="not divisible by 2 x cp = 6"):
        CPShards(3, 0, 20)
    with pytest.raises(ValueError, match="cp rank 3 outside 0..2"):
        CPShards(3, 3, 24)


@pytest.mark.parametrize("cp", [1, 2, 3])
def test_simulated_ranks_equal_document_masked_attention(cp):
    torch.manual_seed(0)
    q = torch.randn(2, 4, 24, 8, requires_grad=True)
    k = torch.randn(2, 2, 24, 8, requires_grad=True)  # grouped-query attention: 2 KV heads for 4 queries
    v = torch.randn(2, 2, 24, 8, requires_grad=True)
    want = reference(q, k, v, DOCS)
    got = simulate_ranks(q, k, v, DOCS, cp)
    assert torch.allclose(got, want, atol=1e-5)
    grads_want = torch.autograd.grad(want.square().sum(), (q, k, v))
    grads_got = torch.autograd.grad(got.square().sum(), (q, k, v))
    for a, b in zip(grads_got, grads_want):
        assert torch.allclose(a, b, atol=1e-5)


def test_attention_across_documents_would_differ():
    """The check has teeth: causal attention over the packed row (ring attention's only mask)
    differs from the document-masked result on every document after the first."""
    torch.manual_seed(0)
    q, k, v = torch.randn(1, 2, 24, 8), torch.randn(1, 2, 24, 8), torch.randn(1, 2, 24, 8)
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    got = simulate_ranks(q, k, v, DOCS[:1], 3)
    assert torch.allclose(got[..., :3, :], causal[..., :3, :], atol=1e-6)
    assert not torch.allclose(got[..., 4:, :], causal[..., 4:, :], atol=1e-3)


def test_one_rank_reads_only_the_key_chunks_up_to_its_own():
    """A query chunk's later key chunks are all masked, so passing garbage there changes nothing."""
    torch.manual_seed(0)
    shards = CPShards(2, 0, 16)  # chunks 0 and 3 of 4
    q, k, v = torch.randn(1, 2, 8, 4), torch.randn(1, 2, 16, 4), torch.randn(1, 2, 16, 4)
    docs = torch.zeros(1, 16, dtype=torch.long)
    out = sharded_document_attention(q, k, v, docs, shards)
    poisoned = k.clone()
    poisoned[:, :, 8:12] = float("nan")  # rank 1's first chunk (chunk 1) is only read by chunk 3's queries
    assert torch.isnan(sharded_document_attention(q, poisoned, v, docs, shards)[:, :, 4:]).all()
    assert torch.equal(sharded_document_attention(q, poisoned, v, docs, shards)[:, :, :4], out[:, :, :4])


GLOO_MODEL = """
import sys, torch, torch.distributed as dist
from herd.lib.llama.model import Llama, config_for
from herd.plugins.nemo import cp_attention
from herd.plugins.nemo.cp_attention import CPShards, reassemble
from herd.plugins.nemo.hf_model import hf_module
from herd.plugins.nemo.packed import cp_model_inputs, packed_inputs

dist.init_process_group("gloo")
rank, cp = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
herd = Llama(config_for("tiny", vocab_size=64))
tokens = torch.randint(0, 64, (2, 32))
docs = torch.tensor([[0] * 5 + [1] * 14 + [2] * 13, [3] * 32])
full = hf_module(herd.cfg, herd.state_dict())
expected = full(input_ids=tokens, **packed_inputs(docs)).logits
expected.square().mean().backward()

model = hf_module(herd.cfg, herd.state_dict())
model.set_attn_implementation(cp_attention.register())
shards = CPShards(cp, rank, 32)
local = model(**cp_model_inputs(shards, dist.group.WORLD, tokens, docs)).logits
parts = [torch.empty_like(local) for _ in range(cp)]
dist.all_gather(parts, local.detach())
got = reassemble(parts, cp)
(local.square().sum() / expected.numel()).backward()
worst = 0.0
for (name, p), ref in zip(model.named_parameters(), full.parameters()):
    dist.all_reduce(p.grad)
    worst = max(worst, float((p.grad - ref.grad).abs().max()))
if rank == 0:
    print(float((got - expected).abs().max()), worst)
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_gloo_ranks_give_the_full_model_logits_and_gradients(tmp_path):
    """Two real cp ranks (gloo) run the Hugging Face Llama with the registered attention: the
    reassembled logits and the summed parameter gradients equal one process's with the
    document mask (the all-gather's backward sends each rank its keys' and values' gradients)."""
    pytest.importorskip("transformers")
    script = tmp_path / "cp_model.py"
    script.write_text(GLOO_MODEL)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(script)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    logits_error, grad_error = map(float, done.stdout.split())
    assert logits_error < 1e-5 and grad_error < 1e-5


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_cuda_kernel_keeps_documents_apart(dtype):
    """The kernel the GPU path runs (SDPA's memory-efficient attention with the boolean
    document mask, forward and backward) against fp32 full-row attention, cp=4 simulated."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    torch.manual_seed(0)
    docs = torch.tensor([[0] * 40 + [1] * 100 + [2] * 116, [5] * 256], device="cuda")
    shape = [(2, 8, 256, 64), (2, 2, 256, 64), (2, 2, 256, 64)]
    q, k, v = (torch.randn(s, device="cuda", dtype=dtype, requires_grad=True) for s in shape)
    want = reference(q.float(), k.float(), v.float(), docs)
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION]):
        got = simulate_ranks(q, k, v, docs, 4)
        grads = torch.autograd.grad(got.float().square().sum(), (q, k, v))
    grads_want = torch.autograd.grad(want.square().sum(), (q, k, v))
    tol = 1e-4 if dtype == torch.float32 else 3e-2
    assert torch.allclose(got.float(), want, atol=tol)
    for a, b in zip(grads, grads_want):
        assert torch.allclose(a.float(), b.float(), atol=tol * 10, rtol=tol)
