"""``Generator.chat`` of the ``local`` and ``hf`` backends: typed conversations in, typed
turns out, each with why it ended. The model is a tiny Llama whose weights make its next
token a fixed function of the current one (layers silenced, embeddings one-hot), so a test
decides exactly what the model says."""

from __future__ import annotations

import pytest
import torch

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage, ToolCall
from herd.lib.chat.format import ChatFormat
from herd.lib.llama.config import HFGeneratorConfig
from herd.lib.llama.generate import HFGenerator, LocalGenerator
from herd.lib.llama.hf_io import export_hf, save_model
from herd.lib.llama.model import Llama, LlamaConfig
from herd.lib.llama.tokenizer import Tokenizer

TEXTS = ["hello world, print(2) says the llama to the herd. " * 4, "numbers 12 34 56 and more words"] * 30
ASK = [ChatMessage("system", "Environment: ipython"), ChatMessage("user", "hello")]


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(TEXTS, vocab_size=300)


def chain_model(tok: Tokenizer, after_prompt: list[int]) -> Llama:
    """A model that, after the generation prompt, says ``after_prompt`` token by token
    (its tokens distinct, so each one names the next) and then repeats its last token."""
    chat = ChatFormat.from_tokenizer(tok)
    last = chat.encode_prompt(ASK).ids[-1]
    chain = dict(zip([last] + after_prompt, after_prompt + [after_prompt[-1]]))
    assert len(chain) == len(after_prompt) + 1, "the chain's tokens must be distinct"
    torch.manual_seed(0)
    model = Llama(LlamaConfig(vocab_size=tok.vocab_size, dim=64, n_layers=1, max_seq_len=64))
    with torch.no_grad():
        for layer in model.layers:  # the residual stream stays the current token's embedding
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.embed_tokens.weight.zero_()
        model.lm_head.weight.zero_()
        model.norm.weight.fill_(1.0)
        for slot, (src, dst) in enumerate(chain.items(), start=1):
            model.embed_tokens.weight[src, slot] = 1.0
            model.lm_head.weight[dst, slot] = 10.0
    return model.eval()


def test_plain_turn_ends_at_eot(tok):
    words = tok.encode("hello world")
    gen = LocalGenerator(chain_model(tok, words + [tok.special.eot]), tok)
    assert isinstance(gen, Generator)
    [[reply, again]] = gen.chat([ASK], SamplingParams(temperature=0, max_tokens=20, n=2))
    assert reply.message == ChatMessage("assistant", "hello world") and reply.finish == "end_of_turn"
    assert again == reply


def test_builtin_tool_call_ends_at_eom_typed(tok):
    code = tok.encode("print(2)")
    gen = LocalGenerator(chain_model(tok, [tok.special.python_tag] + code + [tok.special.eom]), tok)
    [[reply]] = gen.chat([ASK], SamplingParams(temperature=0, max_tokens=20))
    assert reply.finish == "end_of_message"
    assert reply.message.tool_calls == [ToolCall("code_interpreter", {"code": "print(2)"})]
    assert reply.message.content == ""


def test_max_tokens_is_length_and_stop_strings_cut(tok):
    words = tok.encode("hello world")
    gen = LocalGenerator(chain_model(tok, words), tok)  # never ends its turn
    [[reply]] = gen.chat([ASK], SamplingParams(temperature=0, max_tokens=len(words) + 3))
    assert reply.finish == "length" and reply.message.content.startswith("hello world")
    [[cut]] = gen.chat([ASK], SamplingParams(temperature=0, max_tokens=10, stop=[" world"]))
    assert cut.finish == "stop" and cut.message.content == "hello"


def test_conversation_longer_than_the_context_gets_no_turns(tok):
    gen = LocalGenerator(chain_model(tok, [tok.special.eot]), tok)
    too_long = [ChatMessage("user", "numbers 12 34 56 " * 30)]
    out = gen.chat([too_long, ASK], SamplingParams(temperature=0, max_tokens=4))
    assert out[0] == [] and out[1][0].finish == "end_of_turn"


def test_hf_backend_chat_agrees_with_local(tok, tmp_path):
    pytest.importorskip("transformers")
    code = tok.encode("print(2)")
    model = chain_model(tok, [tok.special.python_tag] + code + [tok.special.eom])
    save_model(model, tmp_path / "ckpt", tokenizer=tok)
    export_hf(tmp_path / "ckpt", tmp_path / "hf")
    hf = HFGenerator(HFGeneratorConfig(model_path=str(tmp_path / "hf")))
    params = SamplingParams(temperature=0, max_tokens=20, n=2)
    ours = LocalGenerator(model, tok).chat([ASK, ASK[1:]], params)
    assert hf.chat([ASK, ASK[1:]], params) == ours
    assert ours[0][0].finish == "end_of_message"
