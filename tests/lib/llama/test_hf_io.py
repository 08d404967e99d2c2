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
