import pytest
import torch

from herd.lib.llama.model import SIZES, Llama, LlamaConfig, RopeScaling, config_for, cross_entropy
from herd.lib.llama.packing import pack


@pytest.mark.parametrize("size,published", [("8b", 8.03e9), ("70b", 70.6e9), ("405b", 405.9e9)])
def test_parameter_counts_match_published(size, published):
    cfg = SIZES[size]
    assert cfg.num_params() == pytest.approx(published, rel=1e-3)
    with torch.device("meta"):
        model = Llama(cfg)
    assert sum(p.numel() for p in model.parameters()) == cfg.num_params()


def test_recipe_shapes():
    cfg = SIZES["405b"]
    assert (cfg.n_layers, cfg.dim, cfg.ffn_dim, cfg.n_heads, cfg.n_kv_heads) == (126, 16384, 53248, 128, 8)
    assert cfg.rope_theta == 500000 and cfg.vocab_size == 128256


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="n_kv_heads"):
        LlamaConfig(n_heads=4, n_kv_heads=3)
    with pytest.raises(KeyError, match="sizes are"):
        config_for("3b")


@pytest.mark.parametrize("lengths", [
    (7, 12, 5, 8),                   # a short row: one masked attention
    (300, 40, 5, 700, 3, 3, 250),   # a long row: attention per document (packed_attention)
])
def test_packed_loss_equals_per_document_loss(lengths):
    torch.manual_seed(0)
    model = Llama(LlamaConfig()).eval()
    docs = [torch.randint(0, 512, (n,)) for n in lengths]
    per_doc_sum, per_doc_count = 0.0, 0
    with torch.no_grad():
        for d in docs:
            logits = model(d[None, :-1])
            per_doc_sum += cross_entropy(logits, d[None, 1:]).item() * (len(d) - 1)
            per_doc_count += len(d) - 1
        tokens = torch.cat(docs)
        doc_ids = torch.cat([torch.full((len(d),), i) for i, d in enumerate(docs)])
        seq = len(tokens) - 1
        b = pack(tokens, doc_ids, 1, seq)
        packed = cross_entropy(model(b.tokens, doc_ids=b.doc_ids), b.labels).item()
        unmasked = cross_entropy(model(b.tokens), b.labels).item()
    assert (b.labels != -100).sum().item() == per_doc_count - 0  # boundary labels masked
    assert packed == pytest.approx(per_doc_sum / per_doc_count, abs=1e-5)
    assert abs(unmasked - packed) > 1e-4  # the mask matters


def test_kv_cache_decoding_matches_full_forward():
    torch.manual_seed(0)
    cfg = LlamaConfig(rope_scaling=RopeScaling(factor=4.0, original_max_position_embeddings=16))
    model = Llama(cfg).eval()
    from herd.lib.llama.model import KVCache

    tokens = torch.randint(0, 512, (2, 20))
    with torch.no_grad():
        full = model(tokens)
        cache = KVCache.empty(cfg, 2, 32)
        step = [model(tokens[:, :12], kv_cache=cache)]
        for i in range(12, 20):
            step.append(model(tokens[:, i : i + 1], kv_cache=cache, start_pos=i))
    torch.testing.assert_close(torch.cat(step, dim=1), full, atol=1e-5, rtol=1e-5)


def test_hidden_states_feed_a_reward_head():
    model = Llama(LlamaConfig())
    h = model.hidden_states(torch.randint(0, 512, (3, 9)))
    assert h.shape == (3, 9, 64)
    head = torch.nn.Linear(64, 1)
    assert head(h[:, -1]).shape == (3, 1)


def test_fused_head_loss_equals_cross_entropy_of_logits_with_gradients():
    torch.manual_seed(3)
    model = Llama(LlamaConfig(vocab_size=300))
    tokens = torch.randint(0, 300, (3, 40))
    labels = torch.randint(0, 300, (3, 40))
    labels[:, ::5] = -100
    docs = torch.cumsum((torch.rand(3, 40) < 0.1).long(), dim=1)

    def grads(loss):
        model.zero_grad()
        (loss * 0.37).backward()
        return {n: p.grad.clone() for n, p in model.named_parameters()}

    logits = model(tokens, doc_ids=docs)
    reference = torch.nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100,
                                                  reduction="sum")
    expected = grads(reference)
    fused = model(tokens, doc_ids=docs, labels=labels)
    got = grads(fused)
    assert fused.item() == pytest.approx(reference.item(), rel=1e-6)
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-6, rtol=1e-5)
    with torch.no_grad():  # evaluation: the loss alone, no gradient work
        assert model(tokens, doc_ids=docs, labels=labels).item() == pytest.approx(reference.item(), rel=1e-6)


def test_left_padded_rows_compute_what_they_compute_alone():
    torch.manual_seed(5)
    model = Llama(LlamaConfig()).eval()
    short, long = torch.randint(0, 512, (5,)), torch.randint(0, 512, (9,))
    padded = torch.stack([torch.cat([torch.zeros(4, dtype=torch.long), short]), long])
    with torch.no_grad():
        batch = model(padded, left_pad=torch.tensor([4, 0]))
        torch.testing.assert_close(batch[0, 4:], model(short[None])[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(batch[1], model(long[None])[0], atol=1e-5, rtol=1e-5)
