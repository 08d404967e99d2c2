import random

import pytest
import torch
import torch.nn.functional as F

from herd.lib.llama.model import document_mask
from herd.lib.llama.packed_attention import PIECE, PackedDocuments


def layout(rows: int, seq: int, mean_len: float, seed: int) -> torch.Tensor:
    """Document ids of packed rows; a document may run on into the next row."""
    rng = random.Random(seed)
    ids, doc = [], 0
    while len(ids) < rows * seq:
        ids += [doc] * max(1, int(rng.expovariate(1 / mean_len)))
        doc += 1
    return torch.tensor(ids[: rows * seq]).view(rows, seq)


def masked_attention(q, k, v, doc_ids):
    y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                       attn_mask=document_mask(doc_ids), enable_gqa=q.shape[2] != k.shape[2])
    return y.transpose(1, 2)


@pytest.mark.parametrize("rows,seq,mean_len", [
    (2, 600, 2),      # hundreds of tiny documents: merged into masked pieces
    (2, 1024, 40),    # short documents
    (1, 1500, 400),   # long documents alone, short ones in pieces
    (3, 700, 5000),   # one document running through every row
])
def test_plan_computes_the_masked_attention_and_its_gradients(rows, seq, mean_len):
    torch.manual_seed(0)
    doc_ids = layout(rows, seq, mean_len, seed=seq)
    plan = PackedDocuments.plan(doc_ids, width=32)
    assert plan is not None
    q = torch.randn(rows, seq, 4, 8, requires_grad=True)
    k, v = (torch.randn(rows, seq, 2, 8, requires_grad=True) for _ in range(2))
    out = plan.attention(q, k, v)
    expected = masked_attention(q, k, v, doc_ids)
    assert torch.allclose(out, expected, atol=1e-5)
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), (q, k, v))
    expected_grads = torch.autograd.grad((expected * weights).sum(), (q, k, v))
    for got, want in zip(grads, expected_grads):
        assert torch.allclose(got, want, atol=1e-5)


def test_long_rows_are_cut_into_far_fewer_scores_than_the_square():
    doc_ids = layout(1, 2048, 100, seed=1)
    plan = PackedDocuments.plan(doc_ids, width=256)
    computed = sum(n * length * length for n, length in plan.groups)
    assert computed < 2048 * 2048 / 4
    assert plan.groups[-1][1] <= PIECE  # the short documents, merged into pieces


def test_rows_no_longer_than_a_piece_keep_the_mask():
    assert PackedDocuments.plan(layout(8, PIECE, 30, seed=2), width=256) is None
