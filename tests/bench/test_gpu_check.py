import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import gpu_check  # noqa: E402

from herd.lib.llama.model import config_for  # noqa: E402


def test_mfu_is_model_flops_over_peak():
    # 10,000 tokens/s at 1e8 FLOPs per token is 1e12 FLOP/s: 10% of a 10 TFLOP/s chip
    assert gpu_check.mfu(10_000, 1e8, 10.0) == pytest.approx(0.10)
    cfg = config_for("1b")
    per_token = cfg.flops_per_token(2048)
    assert per_token == 6 * cfg.num_params(embeddings=False) + 12 * cfg.n_layers * cfg.dim * 2048
    with pytest.raises(ValueError, match="peak_tflops"):
        gpu_check.mfu(1.0, 1.0, 0.0)


def test_arguments_are_checked():
    args = gpu_check.parse_args(["--steps", "10", "--warmup", "3", "--skip", "generate"])
    assert args.size == "1b" and args.steps == 10
    for bad in (["--steps", "3", "--warmup", "3"], ["--skip", "nonsense"]):
        with pytest.raises(SystemExit):
            gpu_check.parse_args(bad)
    assert gpu_check.peak_for("NVIDIA H100 80GB HBM3", 0.0) == 989.4
    assert gpu_check.peak_for("Some GPU", 500.0) == 500.0
    with pytest.raises(SystemExit):
        gpu_check.peak_for("Some GPU", 0.0)
