import argparse
import gzip
import json
import random
from pathlib import Path

import pytest

from herd.core.app import App
from herd.plugins.scaling.command import run

REPO = Path(__file__).resolve().parents[3]
WORDS = ("the a llama herd walks over high plain river sun snow bread town library train station book "
         "quiet early morning green blue sky east west").split()


@pytest.mark.slow
def test_small_cpu_sweep_fits_its_own_curve(tmp_path, capsys):
    blocks = (REPO / "registry.toml").read_text().split("\n[plugins.")
    registry = tmp_path / "registry.toml"
    registry.write_text("".join("\n[plugins." + b for b in blocks if b.startswith(("llama]", "torch]", "scaling]"))))
    rng = random.Random(0)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with gzip.open(corpus / "docs.jsonl.gz", "wt") as f:
        for _ in range(400):
            f.write(json.dumps({"text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80)))}) + "\n")
    app = App.create(profile="quick", registry_path=registry, entry_points=False,
                     overrides=["trainers.torch.threads=1"])
    out = tmp_path / "sweep"
    args = argparse.Namespace(scaling_command="run", data=corpus, out=out)
    assert run(args, app) == 0
    report = json.loads((out / "sweep.json").read_text())
    assert len(report["runs"]) == 6 and all(r["loss"] is not None for r in report["runs"])
    assert len(report["parabolas"]) == 2
    assert all(-1e9 < p["r2"] <= 1.0 for p in report["parabolas"])  # fit quality is reported
    assert (out / "isoflop.png").stat().st_size > 1000
    for p in report["parabolas"]:
        inside = min(r["tokens"] for r in report["runs"] if r["budget"] == p["budget"]) <= (p["optimal_tokens"] or 0)
        inside &= (p["optimal_tokens"] or 0) <= max(r["tokens"] for r in report["runs"] if r["budget"] == p["budget"])
        assert inside or any(f"budget {p['budget']:.3g}" in n for n in report["notes"])
    if report["law"] is not None:
        assert (out / "scaling_law.png").is_file() and report["prediction"]["tokens"] > 0
    else:
        assert report["notes"]
    print(capsys.readouterr().out)
