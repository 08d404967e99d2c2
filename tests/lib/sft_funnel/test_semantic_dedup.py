"""Semantic dedup on labelled paraphrases with the packaged MiniLM model, and the greedy
rule on constructed vectors."""

import numpy as np
import pytest

from herd.lib.sft_funnel.semdedup import cluster_count, semantic_dedup

PARAPHRASES = [
    ("How do I reverse a list in Python?", "What is the way to reverse a Python list?"),
    ("Explain how photosynthesis works.", "Can you explain the process of photosynthesis?"),
    ("Write a haiku about the autumn moon.", "Compose a haiku about the moon in autumn."),
    ("What is the capital of Australia?", "Which city is the capital of Australia?"),
    ("Give me three tips for better sleep.", "What are three tips to sleep better?"),
    ("Solve for x: 2x + 3 = 11.", "Find x if 2x + 3 = 11."),
]
DISTINCT = [
    "Summarize the plot of Hamlet in two sentences.",
    "Convert 100 degrees Fahrenheit to Celsius.",
    "Write a SQL query that counts orders per customer.",
    "What causes the tides on Earth?",
    "Translate 'good morning' into Spanish.",
    "Draft a polite email declining a meeting invitation.",
    "How many prime numbers are below 20?",
    "Describe the rules of castling in chess.",
]


@pytest.fixture(scope="module")
def embedder():
    from herd.lib.sft_funnel.embed import Embedder

    return Embedder(batch_size=8)


def test_removes_labelled_paraphrases_keeps_distinct_items(embedder):
    texts = [t for pair in PARAPHRASES for t in pair] + DISTINCT
    vectors = embedder.encode(texts)
    assert vectors.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    # Prefer the second phrasing of each pair, to see priority decide which copy stays.
    priority = np.array([1.0, 2.0] * len(PARAPHRASES) + [1.0] * len(DISTINCT))
    result = semantic_dedup(vectors, priority, threshold=0.85, rows_per_cluster=5)
    for i in range(len(PARAPHRASES)):
        assert not result.keep[2 * i], texts[2 * i]
        assert result.keep[2 * i + 1]
        assert result.duplicate_of[2 * i] == 2 * i + 1
    assert result.keep[2 * len(PARAPHRASES):].all()
    assert result.keep.sum() == len(PARAPHRASES) + len(DISTINCT)


def test_local_model_dir_loads_through_transformers(tmp_path):
    """A RoBERTa-style encoder directory without sentence-transformers files."""
    from transformers import BertConfig, BertModel
    from herd.lib.sft_funnel.embed import Embedder, default_model_path
    import shutil

    model_dir = tmp_path / "encoder"
    BertModel(BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64)).save_pretrained(model_dir)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"):
        shutil.copy(default_model_path() / name, model_dir / name)
    vectors = Embedder(str(model_dir), batch_size=2).encode(["one text", "another text", "a third"])
    assert vectors.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_greedy_compares_with_kept_rows_only():
    # b is close to a, c close to b but not to a: with a kept and b dropped, c survives.
    angle = np.deg2rad(20)
    vectors = _unit([[1, 0], [np.cos(angle), np.sin(angle)], [np.cos(2 * angle), np.sin(2 * angle)]])
    result = semantic_dedup(vectors, np.array([3.0, 2.0, 1.0]), threshold=0.9, rows_per_cluster=10)
    assert result.keep.tolist() == [True, False, True]
    assert result.duplicate_of.tolist() == [-1, 0, -1]


def test_blocks_and_clusters_give_the_same_answer_as_one_block():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(50, 16))
    vectors = _unit(np.repeat(centers, 4, axis=0) + rng.normal(scale=0.05, size=(200, 16)))
    priority = rng.random(200)
    one = semantic_dedup(vectors, priority, threshold=0.95, rows_per_cluster=1000, block_size=4096)
    small_blocks = semantic_dedup(vectors, priority, threshold=0.95, rows_per_cluster=1000, block_size=7)
    assert (one.keep == small_blocks.keep).all()
    clustered = semantic_dedup(vectors, priority, threshold=0.95, rows_per_cluster=20)
    assert clustered.clusters == 10
    assert 45 <= clustered.keep.sum() <= 55  # ~one per group of four near-copies


def test_memmap_input_and_empty(tmp_path):
    vectors = _unit(np.eye(4) + 0.01)
    path = tmp_path / "emb.npy"
    np.save(path, vectors)
    result = semantic_dedup(np.load(path, mmap_mode="r"), threshold=0.9)
    assert result.keep.all()
    assert semantic_dedup(np.zeros((0, 4), dtype=np.float32)).keep.size == 0
    assert cluster_count(10, 1000, 50) == 1 and cluster_count(10**6, 1000, 500) == 500
    with pytest.raises(ValueError, match="priority"):
        semantic_dedup(vectors, np.ones(3))


def test_matches_a_plain_sequential_greedy_on_chains():
    """Random walks make chains of near rows (a~b, b~c, not a~c), the hard case for the
    vectorised block resolution; compare with the rule written as a plain loop."""
    rng = np.random.default_rng(5)
    steps = rng.normal(scale=0.12, size=(300, 8))
    vectors = _unit(np.cumsum(steps, axis=0) + rng.normal(size=8) * 3)
    priority = rng.random(300)
    threshold = 0.995
    result = semantic_dedup(vectors, priority, threshold=threshold, rows_per_cluster=1000, block_size=64)
    kept: list[int] = []
    expected = np.zeros(300, dtype=bool)
    for i in np.lexsort((np.arange(300), -priority)):
        if not kept or (vectors[kept] @ vectors[i]).max() < threshold:
            kept.append(i)
            expected[i] = True
    assert 0 < expected.sum() < 300
    assert (result.keep == expected).all()
    dropped = ~result.keep
    assert (result.similarity[dropped] >= threshold).all()
    assert result.keep[result.duplicate_of[dropped]].all()
