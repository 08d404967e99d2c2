"""Fixtures shared by the plugins' tests: the training backends' data (torch and nemo train on
the same data) and an isolated sandbox."""

import random
from pathlib import Path

import pytest

WORDS = ("the a llama herd walks over high plain river sun snow bread town library train station book "
         "quiet early morning green blue sky east west").split()


def corpus(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 100))) + "." for _ in range(n)]


@pytest.fixture(scope="session")
def token_data(tmp_path_factory) -> Path:
    """A trained tokenizer and tokenised train / validation / long-context data."""
    from herd.lib.llama.packing import write_token_shards
    from herd.lib.llama.tokenizer import Tokenizer

    d = tmp_path_factory.mktemp("tokens")
    texts = corpus(300)
    tok = Tokenizer.train(texts, 320)
    tok.save(d / "tok")
    write_token_shards(texts[:280], tok, d / "train")
    write_token_shards(texts[280:], tok, d / "val")
    write_token_shards(texts[:90], tok, d / "long")
    return d


# ----- post-training jobs (both backends' post_train) -------------------------------------

POSTTRAIN_CORPUS = [
    "What is 2 plus 3? The answer is 5. Repeat after me: blue sky. blue sky. ",
    "The quick brown fox jumps over the lazy dog. Say hello. hello! ",
]


@pytest.fixture(scope="session")
def posttrain_data(tmp_path_factory):
    """``(model_dir, sft.jsonl, preferences.jsonl)``: a tiny HF-format Llama with herd's
    tokenizer (as pretraining leaves it) and job data written by ``rows.write_rows``."""
    import torch

    from herd.core.records import ChatMessage, PreferenceRow, SFTRow, text_response
    from herd.lib.llama.hf_io import save_hf
    from herd.lib.llama.model import Llama, LlamaConfig
    from herd.lib.llama.tokenizer import Tokenizer
    from herd.lib.posttraining.rows import write_rows

    d = tmp_path_factory.mktemp("posttrain")
    tok = Tokenizer.train(POSTTRAIN_CORPUS * 20, vocab_size=320)
    torch.manual_seed(0)
    cfg = LlamaConfig(dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64, vocab_size=tok.vocab_size,
                      max_seq_len=256)
    model_dir = d / "model"
    tok.save_hf(model_dir)
    save_hf(Llama(cfg), model_dir, special={"bos": tok.special.bos, "eos": tok.special.eot})
    rng = random.Random(0)
    sft, prefs = [], []
    for i in range(12):
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        sft.append(SFTRow(f"s{i}", [ChatMessage("user", f"What is {a} plus {b}?"),
                                    ChatMessage("assistant", f"The answer is {a + b}.")]))
        prefs.append(PreferenceRow(f"p{i}", [ChatMessage("user", f"Say {WORDS[i]}")],
                                   [text_response(f"{WORDS[i]} {WORDS[i]}!"), text_response(f"no {i} thanks")]))
    return model_dir, write_rows(d / "sft.jsonl", sft), write_rows(d / "prefs.jsonl", prefs)


# What the trainers' post-training tests share: small settings that still move the loss in a
# few steps, and a job builder over ``posttrain_data``.
POST_TRAIN_SETTINGS = {"sft": dict(lr=3e-3, epochs=2, batch_size=3, max_len=48, seed=1),
                       "dpo": dict(lr=1e-3, epochs=2, batch_size=5, max_len=64, seed=1)}


@pytest.fixture(scope="session")
def post_train_job(posttrain_data):
    """``build(out, kind, parallel=None) -> PostTrainJob`` on the shared tiny model and data."""
    from herd.core.protocols import ParallelSizes, PostTrainJob, PostTrainSettings

    model_dir, sft, prefs = posttrain_data

    def build(out, kind, parallel=None) -> PostTrainJob:
        settings = PostTrainSettings(**POST_TRAIN_SETTINGS.get(kind, {}))
        return PostTrainJob(kind=kind, model_dir=model_dir, data=sft if kind == "sft" else prefs, output_dir=out,
                            settings=settings, parallel=parallel or ParallelSizes(), device="cpu")

    return build


# ----- an isolated sandbox (the code and math plugins run programs in it) -----------------

@pytest.fixture(scope="module")
def isolated_sandbox():
    """A warm pool of the machine's isolated sandbox backend; the test is skipped where there
    is none (no Docker image, no working bubblewrap)."""
    from herd.lib.sandbox.choose import available_backend, open_sandbox
    from herd.lib.sandbox.config import SandboxConfig

    cfg = SandboxConfig(timeout_s=5, pool_size=2)
    if available_backend(cfg) is None:
        pytest.skip("no isolated sandbox here (no Docker image, no working bubblewrap)")
    box = open_sandbox(cfg)
    yield box
    box.close()
