"""``herd run --check`` validates every stage's parallel layout against its training
backend before any stage runs: exit 0 with a summary, or 2 naming stage, key and backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "cli.py"), "run", "--check", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_full_profile_layouts_are_consistent():
    done = check("--profile", "full")
    assert done.returncode == 0, done.stderr
    assert "pretrain: [pretrain] trainer=nemo tp=8 cp=1 pp=16 dp=128" in done.stdout
    assert "posttrain: [posttrain] trainer=nemo" in done.stdout


def test_torch_with_pipeline_parallel_is_refused_before_any_stage(tmp_path):
    done = check("--profile", "full", "--set", "pretrain.trainer=torch", "--set", f"run.runs_dir={tmp_path}")
    assert done.returncode == 2
    assert "stage pretrain: [pretrain] pp=16: the torch trainer runs only tp and dp" in done.stderr
    assert "pretrain.trainer=\"nemo\"" in done.stderr and "(backend 'torch')" in done.stderr
    assert not any(tmp_path.iterdir())  # nothing ran


def test_posttrain_tp_that_does_not_divide_the_model_is_refused(tmp_path):
    from herd.lib.llama.hf_io import save_hf
    from herd.lib.llama.model import Llama, LlamaConfig

    save_hf(Llama(LlamaConfig(dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64, vocab_size=320)), tmp_path)
    done = check("--profile", "quick", "--set", "posttrain.tp=3", "--set", f"posttrain.base_model={tmp_path}")
    assert done.returncode == 2
    assert "stage posttrain: [posttrain] tp=3 must divide n_heads (4)" in done.stderr
