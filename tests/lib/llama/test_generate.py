import pytest
import torch

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage
from herd.lib.chat.format import render_text
from herd.lib.llama.config import HFGeneratorConfig, LocalGeneratorConfig
from herd.lib.llama.generate import HFGenerator, LocalGenerator, generate_ids, sample_next
from herd.lib.llama.hf_io import export_hf, save_model
from herd.lib.llama.model import Llama, LlamaConfig
from herd.lib.llama.tokenizer import Tokenizer

TEXTS = ["hello world, the llama says hello to the herd. " * 4, "numbers 12 34 56 78 and more words"] * 30


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(TEXTS, vocab_size=320)


@pytest.fixture(scope="module")
def model(tok):
    torch.manual_seed(0)
    return Llama(LlamaConfig(vocab_size=tok.vocab_size, max_seq_len=64)).eval()


def test_greedy_kv_cache_generation_matches_full_forward(model):
    prompt = [1, 5, 9, 42]
    out = generate_ids(model, prompt, n=2, max_tokens=10, temperature=0.0)
    assert out[0] == out[1] and len(out[0]) == 10
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(10):
            seq.append(int(model(torch.tensor([seq]))[0, -1].argmax()))
    assert out[0] == seq[len(prompt):]


def test_top_p_keeps_only_the_nucleus():
    logits = torch.log(torch.tensor([[0.6, 0.3, 0.05, 0.05]]))
    g = torch.Generator().manual_seed(0)
    picks = {int(sample_next(logits, 1.0, 0.5, g)) for _ in range(50)}
    assert picks == {0}
    picks = {int(sample_next(logits, 1.0, 0.85, g)) for _ in range(200)}
    assert picks == {0, 1}


def test_local_generator_samples_n_per_prompt_and_honours_stops(model, tok, tmp_path):
    gen = LocalGenerator(model, tok)
    assert isinstance(gen, Generator)
    params = SamplingParams(temperature=1.0, top_p=0.9, max_tokens=12, n=3, seed=7)
    out = gen.generate(["hello", "numbers"], params)
    assert [len(o) for o in out] == [3, 3]
    assert out == gen.generate(["hello", "numbers"], params)  # seeded
    greedy = gen.generate(["hello"], SamplingParams(temperature=0, max_tokens=12))[0][0]
    if len(greedy) > 2:
        stop = greedy[1:3]
        cut = gen.generate(["hello"], SamplingParams(temperature=0, max_tokens=12, stop=[stop]))[0][0]
        assert cut == greedy[: greedy.find(stop)]
    save_model(model, tmp_path / "ckpt", tokenizer=tok)
    loaded = LocalGenerator.from_config(LocalGeneratorConfig(model_path=str(tmp_path / "ckpt")))
    assert loaded.generate(["hello"], SamplingParams(temperature=0, max_tokens=12))[0][0] == greedy


def test_hf_backend_on_exported_model_agrees_greedily(model, tok, tmp_path):
    pytest.importorskip("transformers")
    save_model(model, tmp_path / "ckpt", tokenizer=tok)
    export_hf(tmp_path / "ckpt", tmp_path / "hf")
    prompt = render_text([ChatMessage("user", "hello")])
    params = SamplingParams(temperature=0, max_tokens=8)
    ours = LocalGenerator(model, tok).generate([prompt], params)
    theirs = HFGenerator(HFGeneratorConfig(model_path=str(tmp_path / "hf"))).generate([prompt], params)
    assert ours == theirs


def greedy_reference(model, prompt, steps):
    """Greedy decoding by full forward passes, no cache, one prompt."""
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(steps):
            seq.append(int(model(torch.tensor([seq]))[0, -1].argmax()))
    return seq[len(prompt):]


def test_batched_greedy_equals_one_prompt_at_a_time(model):
    from herd.lib.llama.generate import generate_batch

    prompts = [[1, 5, 9, 42], [7], list(range(3, 20)), [100, 101, 102, 103, 104, 105, 106]]
    out = generate_batch(model, prompts, n=3, max_tokens=9, temperature=0.0, max_batch_rows=64)
    assert [len(o) for o in out] == [3, 3, 3, 3]
    for prompt, rows in zip(prompts, out):
        expected = greedy_reference(model, prompt, 9)
        assert rows == [expected] * 3
    # several decode batches (2 prompts x 3 samples per batch) give the same answers
    assert generate_batch(model, prompts, n=3, max_tokens=9, temperature=0.0, max_batch_rows=6) == out


def test_stream_batch_rows_gather_to_each_prompt_decoded_alone(model):
    from herd.lib.llama.generate import generate_ids, stream_batch

    prompts = [[1, 5, 9, 42], [7], list(range(3, 20))]
    stop = generate_ids(model, prompts[0], 1, 8, temperature=0.0)[0][3]  # ends prompt 0's rows early
    rows: dict[int, list[int]] = {}
    for live in stream_batch(model, prompts, 2, 8, temperature=0.0, stop_ids=(stop,)):
        for row, token in live:
            rows.setdefault(row, []).append(token)
    assert sorted(rows) == list(range(6))  # row p * n + s is sample s of prompt p
    for p, prompt in enumerate(prompts):
        alone = generate_ids(model, prompt, 1, 8, temperature=0.0, stop_ids=(stop,))[0]
        want = alone + [stop] if len(alone) < 8 else alone  # a stream hands over the stop id too
        assert rows[2 * p] == rows[2 * p + 1] == want


def test_batched_rows_stop_and_respect_the_context(model):
    from herd.lib.llama.generate import generate_batch

    prompts = [[1, 5, 9, 42], [2, 3]]
    free = generate_batch(model, prompts, n=1, max_tokens=12, temperature=0.0)
    stop = free[0][0][4]  # a token the first prompt produces at step 5
    cut = generate_batch(model, prompts, n=1, max_tokens=12, temperature=0.0, stop_ids=(stop,))
    assert cut[0][0] == free[0][0][: free[0][0].index(stop)]
    assert cut[1][0] == free[1][0][: free[1][0].index(stop)] if stop in free[1][0] else cut[1][0] == free[1][0]
    long_prompt = list(range(1, 60))  # max_seq_len 64: room for 5 new tokens
    out = generate_batch(model, [long_prompt, [1, 2]], n=2, max_tokens=20, temperature=1.0, seed=0)
    assert [len(r) for r in out[0]] == [5, 5] and [len(r) for r in out[1]] == [20, 20]
    with pytest.raises(ValueError, match="prompt 0 of 64 tokens"):
        generate_batch(model, [list(range(64))], n=1, max_tokens=4)


def test_sampling_is_seeded_and_top_p_one_row_per_sample(model):
    from herd.lib.llama.generate import generate_batch

    prompts = [[1, 5, 9, 42], [7, 8]]
    a = generate_batch(model, prompts, n=4, max_tokens=10, temperature=1.0, top_p=0.9, seed=3)
    b = generate_batch(model, prompts, n=4, max_tokens=10, temperature=1.0, top_p=0.9, seed=3)
    assert a == b
    assert len({tuple(r) for r in a[0]}) > 1  # the samples of one prompt differ


def test_hf_batched_prompts_agree_greedily_and_too_long_prompts_get_nothing(model, tok, tmp_path):
    pytest.importorskip("transformers")
    save_model(model, tmp_path / "ckpt", tokenizer=tok)
    export_hf(tmp_path / "ckpt", tmp_path / "hf")
    prompts = [render_text([ChatMessage("user", c)]) for c in ("hello", "numbers 12 34 and the herd", "hi")]
    params = SamplingParams(temperature=0, max_tokens=8, n=2)
    ours = LocalGenerator(model, tok).generate(prompts + ["the llama " * 40], params)
    theirs = HFGenerator(HFGeneratorConfig(model_path=str(tmp_path / "hf"))).generate(prompts, params)
    assert ours[:3] == theirs
    assert ours[3] == []


def test_decode_view_step_matches_the_module_path_with_left_padding(model):
    from herd.lib.llama.generate import DecodeWeights
    from herd.lib.llama.model import KVCache

    cfg = model.cfg
    tokens = torch.tensor([[0, 0, 5, 9, 42], [1, 5, 9, 42, 7]])  # row 0 has two padding tokens
    left_pad = torch.tensor([2, 0])
    nxt = torch.tensor([11, 13])
    view = DecodeWeights(model)
    cos, sin = view.rope_table(8, torch.float32)
    bias = torch.zeros(2, 1, 1, 6)
    bias[0, ..., :2] = float("-inf")
    with torch.no_grad():
        ours, theirs = (KVCache.empty(cfg, 2, 8) for _ in range(2))
        for cache in (ours, theirs):
            model.hidden_states(tokens, kv_cache=cache, left_pad=left_pad)
        positions = 5 - left_pad
        fast = view.step(nxt, cos[positions], sin[positions], bias, ours, 5)
        slow = model.lm_head(model.hidden_states(nxt[:, None], kv_cache=theirs, start_pos=5, left_pad=left_pad))[:, -1]
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-5)
    for a, b in zip(ours.k + ours.v, theirs.k + theirs.v):
        torch.testing.assert_close(a[:, :, :6], b[:, :, :6], rtol=1e-5, atol=1e-5)
