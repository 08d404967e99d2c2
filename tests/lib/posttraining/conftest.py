"""Fixtures: a real byte-level tokenizer with the Llama 3 special tokens and tiny random
Llama models (Hugging Face classes), so that tests need no downloads."""

from __future__ import annotations

import pytest
import torch

from herd.lib.chat.format import SPECIAL_TOKENS


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


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tiny models run fastest on one thread; two spinning threads on a shared 2-core
    machine are many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
