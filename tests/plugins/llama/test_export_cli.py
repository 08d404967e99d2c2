"""``python cli.py export-hf CHECKPOINT OUT_DIR`` on a herd model directory and on a
training checkpoint; transformers loads the result with herd's logits."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from herd.lib.llama.hf_io import save_model
from herd.lib.llama.model import Llama, LlamaConfig
from herd.lib.llama.tokenizer import Tokenizer

REPO = Path(__file__).resolve().parents[3]


def export(*args):
    return subprocess.run([sys.executable, str(REPO / "cli.py"), "export-hf", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    tok = Tokenizer.train(["the llama herd walks over the high plain. " * 5, "one two three four"] * 20, 300)
    torch.manual_seed(4)
    model = Llama(LlamaConfig(vocab_size=tok.vocab_size, n_layers=1)).eval()
    save_model(model, d / "model", tokenizer=tok)
    tok.save(d / "tok")
    step = d / "run" / "checkpoints" / "step_00000012"
    step.mkdir(parents=True)
    torch.save({"model": model.state_dict(), "model_config": model.cfg.to_dict(), "optimizer": {}},
               step / "state.pt")
    (d / "run" / "checkpoints" / "latest").write_text("step_00000012\n")
    return d, model


@pytest.mark.slow  # each call starts the CLI (imports torch and transformers)
@pytest.mark.parametrize("source", ["model", "run/checkpoints"])
def test_cli_export_loads_in_transformers_with_equal_logits(trained, tmp_path, source):
    transformers = pytest.importorskip("transformers")
    d, model = trained
    extra = [] if source == "model" else ["--tokenizer", d / "tok"]
    done = export(d / source, tmp_path / "hf", *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "wrote Hugging Face Llama checkpoint" in done.stdout
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "hf").eval()
    tokens = torch.randint(0, model.cfg.vocab_size, (2, 24))
    with torch.no_grad():
        torch.testing.assert_close(hf(tokens).logits, model(tokens), atol=1e-4, rtol=0)
    hf_tok = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
    ids = hf_tok("the llama herd")["input_ids"]
    assert ids[0] == hf_tok.bos_token_id and hf_tok.decode(ids, skip_special_tokens=True) == "the llama herd"


@pytest.mark.slow
def test_cli_export_names_a_missing_or_foreign_checkpoint(tmp_path):
    done = export(tmp_path / "nope", tmp_path / "hf")
    assert done.returncode == 5 and "nope" in done.stderr.strip().splitlines()[-1]
    (tmp_path / "bad").mkdir()
    torch.save({"weights": {}}, tmp_path / "bad" / "state.pt")
    done = export(tmp_path / "bad", tmp_path / "hf")
    assert done.returncode == 5 and "not a herd training checkpoint" in done.stderr
