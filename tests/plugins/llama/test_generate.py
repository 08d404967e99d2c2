import pytest
import torch

from herd.core.protocols import Generator, SamplingParams
from herd.plugins.llama.config import HFGeneratorConfig, LocalGeneratorConfig
from herd.plugins.llama.generate import HFGenerator, LocalGenerator, generate_ids, sample_next
from herd.plugins.llama.hf_io import export_hf, save_model
from herd.plugins.llama.model import Llama, LlamaConfig
from herd.plugins.llama.tokenizer import Tokenizer

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
    prompt = tok.format_chat([{"role": "user", "content": "hello"}], add_generation_prompt=True)
    params = SamplingParams(temperature=0, max_tokens=8)
    ours = LocalGenerator(model, tok).generate([prompt], params)
    theirs = HFGenerator(HFGeneratorConfig(model_path=str(tmp_path / "hf"))).generate([prompt], params)
    assert ours == theirs
