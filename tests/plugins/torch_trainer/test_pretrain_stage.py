import gzip
import json
import random
from pathlib import Path

import pytest
import torch

from herd.core.app import App
from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageResult
from herd.core.rundir import RunDir

REPO = Path(__file__).resolve().parents[3]
WORDS = ("the a llama herd walks over high plain river sun snow bread town library train station book "
         "quiet early morning green blue sky east west").split()


class FakeMix:
    """A ``mix`` stage writing a small corpus the way the curation plugin lays it out."""

    @hookimpl
    def herd_register_stages(self, register):
        register("mix", self.run, reads=())

    def run(self, ctx):
        rng = random.Random(0)
        out = ctx.workdir / "mixed"
        out.mkdir(parents=True)
        with gzip.open(out / "part-00000.jsonl.gz", "wt") as f:
            for i in range(240):
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80))) + "."
                domain = "code" if i % 5 == 0 else "general"
                f.write(json.dumps({"id": str(i), "text": text, "domain": domain, "metadata": {}}) + "\n")
        return StageResult(counts={"documents": 240})


@pytest.fixture
def registry(tmp_path):
    blocks = (REPO / "registry.toml").read_text().split("\n[plugins.")
    mine = [b for b in blocks if b.startswith(("llama]", "torch]"))]
    path = tmp_path / "registry.toml"
    path.write_text("".join("\n[plugins." + b for b in mine))
    return path


def test_quick_pretrain_stage_runs_all_stages_and_exports_hf(registry, tmp_path):
    app = App.create(profile="quick", extra_plugins={"fakemix": FakeMix()}, registry_path=registry,
                     entry_points=False, overrides=["trainers.torch.threads=1"])
    run_dir = RunDir(tmp_path / "run").create()
    outcomes = app.run_pipeline(run_dir, ["mix", "pretrain"])
    assert [o.status for o in outcomes] == ["ran", "ran"], [o.reason for o in outcomes]
    out = run_dir.stage_dir("pretrain")
    manifest = run_dir.manifest("pretrain")
    counts = manifest["counts"]
    assert counts["anneal_high_quality_documents"] > 0 and counts["val_documents"] > 0
    stages = {json.loads(x).get("phase") for x in (out / "train" / "metrics.jsonl").read_text().splitlines()}
    assert {"initial", "long_96", "long_128", "anneal"} <= stages
    transformers = pytest.importorskip("transformers")
    hf = transformers.AutoModelForCausalLM.from_pretrained(out / "final_model").eval()
    from herd.lib.llama.hf_io import load_model

    ours = load_model(out / "train" / "final").eval()
    tokens = torch.randint(0, ours.cfg.vocab_size, (1, 32))
    with torch.no_grad():
        torch.testing.assert_close(hf(tokens).logits, ours(tokens), atol=1e-4, rtol=0)
    tok = transformers.AutoTokenizer.from_pretrained(out / "final_model")
    ids = tok("the llama herd")["input_ids"]
    assert ids[0] == tok.bos_token_id, "the exported tokenizer adds <|begin_of_text|> as Llama 3's does"
    assert tok.decode(ids, skip_special_tokens=True) == "the llama herd"
