"""Shared fixtures: an empty built-in registry so core tests see only the plugins they
register themselves, and a helper to run the CLI in a subprocess."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage, SFTRow
from herd.lib.chat.format import SPECIAL_TOKENS
from herd.lib.chat.text_backend import TextChatMixin


@pytest.fixture(autouse=True)
def _herd_logger_restored():
    """The CLI in-process (``cli.main``) sets up the ``herd`` logger for a console: own
    handlers, no propagation. Put it back after each test so that a later test's ``caplog``
    still sees herd's records whatever ran before it."""
    log = logging.getLogger("herd")
    state = (list(log.handlers), log.propagate, log.level)
    yield
    log.handlers[:], log.propagate, log.level = state[0], state[1], state[2]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def empty_registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text("# no built-ins\n")
    return path


@pytest.fixture
def make_services(empty_registry, tmp_path):
    """``make_services(generator=None, sandbox=None, **fields)``: the typed ``Services`` a
    component built outside a stage gets (``Services.for_app``), on an app with no plugins,
    so it holds only the generator and sandbox a test gives it."""
    from herd.core.app import App
    from herd.core.services import Services

    app = App.create(registry_path=empty_registry, entry_points=False)

    def make(generator=None, sandbox=None, **fields) -> Services:
        return Services.for_app(app, workdir=tmp_path, generator=generator, sandbox=sandbox, **fields)

    return make


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600):
    """Run ``python cli.py ARGS`` for real; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, str(REPO / "cli.py"), *args],
        cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


# ----- judges and the SFT funnel: a scripted generator and SFT rows -------------------


class ScriptedGenerator(TextChatMixin):
    """A deterministic generation backend for tests: ``script(prompt) -> completion``.
    Records every prompt it was asked."""

    def __init__(self, script):
        self.script = script
        self.prompts: list[str] = []

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        self.prompts.extend(prompts)
        return [[self.script(p) for _ in range(params.n)] for p in prompts]


def make_row(row_id: str, prompt: str, response: str, **kwargs) -> SFTRow:
    return SFTRow(row_id, [ChatMessage("user", prompt), ChatMessage("assistant", response)], **kwargs)


@pytest.fixture
def scripted():
    return ScriptedGenerator


@pytest.fixture
def row():
    return make_row


# ----- post-training: a real byte-level tokenizer with the Llama 3 special tokens and tiny
# random Llama models (Hugging Face classes), so that tests need no downloads ----------


def make_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|end_of_text|>",
    )


def make_llama(vocab_size: int, seed: int = 0, cls_name: str = "LlamaForCausalLM", hidden: int = 32, layers: int = 2):
    import transformers

    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        rope_theta=500000.0,
        pad_token_id=vocab_size - 1,
        tie_word_embeddings=False,
        num_labels=1,
        attn_implementation="eager",
    )
    return getattr(transformers, cls_name)(config).float()


@pytest.fixture(scope="session")
def tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="session")
def chat(tokenizer):
    from herd.lib.chat.format import ChatFormat

    return ChatFormat.from_tokenizer(tokenizer)


@pytest.fixture(scope="session")
def llama():
    """``llama(vocab_size, seed=0, cls_name="LlamaForCausalLM")`` -> a tiny random model."""
    return make_llama


CORPUS = [
    "What is 2 plus 3? The answer is 5. Repeat after me: blue sky. blue sky. ",
    "The quick brown fox jumps over the lazy dog. Say hello. hello! ",
]


def make_model_dir(path, seed: int = 0, dim: int = 32, layers: int = 2):
    """A Hugging Face-format Llama directory as the pretrain stage leaves it: herd's
    tokenizer (tokenizer.json + configs) and a tiny random model (config.json + safetensors)."""
    from herd.lib.llama.hf_io import save_hf
    from herd.lib.llama.model import Llama, LlamaConfig
    from herd.lib.llama.tokenizer import Tokenizer

    tok = Tokenizer.train(CORPUS * 20, vocab_size=320)
    torch.manual_seed(seed)
    cfg = LlamaConfig(dim=dim, n_layers=layers, n_heads=4, n_kv_heads=2, ffn_dim=dim * 2,
                      vocab_size=tok.vocab_size, max_seq_len=512)
    model = Llama(cfg)
    tok.save_hf(path)
    save_hf(model, path, special={"bos": tok.special.bos, "eos": tok.special.eot})
    return path


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("tiny-llama"))


def one_torch_thread():
    """Tiny models run fastest on one thread; two spinning threads on a shared 2-core
    machine are many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
