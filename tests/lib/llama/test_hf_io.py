import json

import pytest
import torch

from herd.core.errors import InputError
from herd.lib.llama.hf_io import load_hf, save_hf
from herd.lib.llama.model import Llama, LlamaConfig, RopeScaling


@pytest.mark.parametrize("tie", [False, True])
def test_transformers_loads_export_with_equal_logits(tmp_path, tie):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(1)
    cfg = LlamaConfig(tie_embeddings=tie, rope_scaling=RopeScaling(factor=8.0, original_max_position_embeddings=32))
    model = Llama(cfg).eval()
    save_hf(model, tmp_path)
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(hf).__name__ == "LlamaForCausalLM"
    tokens = torch.randint(0, cfg.vocab_size, (2, 80))
    with torch.no_grad():
        torch.testing.assert_close(hf(tokens).logits, model(tokens), atol=1e-4, rtol=0)


def test_load_hf_checkpoint_written_by_transformers(tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(2)
    hf_cfg = transformers.LlamaConfig(hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                                      num_attention_heads=6, num_key_value_heads=2, vocab_size=300,
                                      rope_theta=500000.0, max_position_embeddings=128)
    hf = transformers.LlamaForCausalLM(hf_cfg).eval()
    hf.save_pretrained(tmp_path)
    model = load_hf(tmp_path).eval()
    tokens = torch.randint(0, 300, (1, 40))
    with torch.no_grad():
        torch.testing.assert_close(model(tokens), hf(tokens).logits, atol=1e-4, rtol=0)


def test_load_hf_rejects_other_architectures(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(InputError, match="gpt2"):
        load_hf(tmp_path)


def test_export_hf_ships_the_chat_template_bos_and_stop_tokens(tmp_path):
    """``herd export-hf``: the tokenizer renders chats as herd trains on them, and
    generation stops at end of turn, end of message and end of text."""
    transformers = pytest.importorskip("transformers")
    from herd.core.records import ChatMessage, ToolCall
    from herd.lib.chat.format import ChatFormat
    from herd.lib.chat.openai_wire import to_wire
    from herd.lib.llama.hf_io import export_hf, save_model
    from herd.lib.llama.tokenizer import Tokenizer

    tok = Tokenizer.train(["the search for weather in Menlo Park, sunny and mild " * 10] * 20, vocab_size=300)
    save_model(Llama(LlamaConfig(vocab_size=tok.vocab_size)), tmp_path / "ckpt", tokenizer=tok)
    out = export_hf(tmp_path / "ckpt", tmp_path / "hf")
    hf_tok = transformers.AutoTokenizer.from_pretrained(out)
    dialog = [ChatMessage("system", "Tools: brave_search"), ChatMessage("user", "weather?"),
              ChatMessage("assistant", "", tool_calls=[ToolCall("brave_search", {"query": "Menlo Park"})]),
              ChatMessage("ipython", "sunny")]
    ids = hf_tok.apply_chat_template(to_wire(dialog, json_arguments=False), tokenize=True, return_dict=False,
                                     add_generation_prompt=True)
    assert ids == ChatFormat.from_tokenizer(tok).encode_prompt(dialog).ids
    gen = json.loads((out / "generation_config.json").read_text())
    assert gen["eos_token_id"] == [tok.special.eot, tok.special.eom, tok.special.eos]
    assert gen["bos_token_id"] == tok.special.bos == hf_tok("sunny")["input_ids"][0]
