"""Config sections: ``[pretrain]`` (backend-neutral: model, tokenizer, stage schedule,
parallel sizes) and ``[trainers.torch]`` (this backend's own knobs).

Defaults are the ``default`` profile (a few minutes on a laptop CPU); ``quick`` is the
test profile (well under a minute on 2 cores); ``full`` is docs/recipe.md section 4's numbers
for the 405B model on thousands of GPUs, on the nemo backend (the recipe's layout needs
pipeline parallel, which the torch backend does not run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from herd.core.config import fraction, non_negative, positive, ranged

from herd.core.protocols import ParallelSizes, TrainingLayout


@dataclass
class TorchTrainerConfig:
    device: str = "auto"  # auto: cuda when available, else cpu
    bf16: bool = True  # bf16 autocast where the device supports it (CUDA)
    micro_batch_rows: int = non_negative(0)  # sequences per forward pass; 0 = the whole local batch (no accumulation)
    weight_decay: float = non_negative(0.1)
    beta1: float = ranged(0.9, min=0, max=1, exclusive_max=True)
    beta2: float = ranged(0.95, min=0, max=1, exclusive_max=True)
    eps: float = positive(1e-8)
    grad_clip: float = non_negative(1.0)
    checkpoint_every: int = positive(50)
    keep_checkpoints: int = positive(2)
    average_every: int = positive(5)  # anneal: snapshot for the Polyak average every N steps
    eval_rows: int = positive(16)  # short-context validation sequences
    deterministic: bool = True
    threads: int = non_negative(0)  # torch intra-op threads; 0 = 1 for a CPU model under 5M parameters, else torch's default
    # MFU's denominator, TFLOP/s per device; 0: the GPU's dense BF16 data-sheet peak, or on a
    # CPU a measured float32 matmul rate (lib/training/step_log.py device_peak)
    peak_tflops: float = non_negative(0.0)

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"checkpoint_every": 20, "eval_rows": 8, "average_every": 3},
        "full": {"checkpoint_every": 500, "average_every": 100, "eval_rows": 64},
    }


@dataclass
class PretrainConfig:
    trainer: str = "torch"
    # model: a named size of herd.lib.llama.model.SIZES; vocab follows the tokenizer
    model_size: str = "tiny"
    model_overrides: dict[str, int] = field(default_factory=dict)
    # tokenizer: trained on the mix unless tokenizer_path names a tokenizer.json/tiktoken file
    tokenizer_path: str = ""
    vocab_size: int = positive(512)
    tokenizer_docs: int = positive(20000)  # documents sampled to train it
    val_fraction: float = ranged(0.05, min=0, max=1, exclusive_max=True)
    # initial pretraining (docs/recipe.md 4.1), scaled down
    seq_len: int = positive(64)
    batch_tokens: int = positive(1024)
    ramp_after_tokens: list[int] = non_negative(default_factory=lambda: [60_000])
    ramp_batch_tokens: list[int] = positive(default_factory=lambda: [2048])
    ramp_seq_len: list[int] = positive(default_factory=lambda: [128])
    initial_tokens: int = positive(400_000)
    warmup_steps: int = non_negative(20)
    lr_peak: float = positive(3e-3)
    lr_floor: float = non_negative(3e-4)
    # long-context extension (4.2): one stage per length; each trains long_context_tokens
    # then continues until recovered + NIAH passes, at most long_context_max_tokens
    long_context_lengths: list[int] = positive(default_factory=lambda: [256, 512])
    long_context_tokens: int = non_negative(40_000)
    long_context_max_tokens: int = non_negative(80_000)
    long_context_batch_tokens: int = positive(4096)
    recover_tolerance: float = non_negative(0.05)
    niah_threshold: float = fraction(1.0)
    niah_trials: int = non_negative(8)
    eval_every: int = positive(10)
    # annealing (4.3): LR linearly to 0 on up-sampled high-quality data, Polyak average
    anneal_tokens: int = non_negative(40_000)
    anneal_upsample: int = ranged(3, min=1)
    # the curation's domain labels (curation_steps' domain classifier) of the code and
    # mathematics 4.3 up-samples
    anneal_domains: list[str] = field(default_factory=lambda: ["code", "math_reasoning"])
    anneal_min_quality: float = non_negative(0.5)  # a "*quality*" score (record scores or metadata) at or above it counts too
    # parallel layout (docs/recipe.md section 3)
    tp: int = positive(1)
    pp: int = positive(1)
    cp: int = positive(1)
    dp: int = positive(1)

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {
            "vocab_size": 320, "tokenizer_docs": 2000, "seq_len": 32, "batch_tokens": 512,
            "ramp_after_tokens": [8_000], "ramp_batch_tokens": [1024], "ramp_seq_len": [64],
            "initial_tokens": 24_000, "warmup_steps": 5, "long_context_lengths": [96, 128],
            "long_context_tokens": 4_000, "long_context_max_tokens": 8_000, "long_context_batch_tokens": 1024,
            "niah_trials": 4, "eval_every": 4, "anneal_tokens": 5_000,
        },
        "full": {
            "model_size": "405b", "vocab_size": 128256, "tokenizer_docs": 10_000_000, "val_fraction": 0.001,
            "seq_len": 4096, "batch_tokens": 4 * 2**20,
            "ramp_after_tokens": [252_000_000, 2_870_000_000_000],
            "ramp_batch_tokens": [8 * 2**20, 16 * 2**20], "ramp_seq_len": [8192, 8192],
            "initial_tokens": 15_600_000_000_000, "warmup_steps": 8000, "lr_peak": 8e-5, "lr_floor": 8e-7,
            "long_context_lengths": [16384, 32768, 49152, 65536, 98304, 131072],
            "long_context_tokens": 130_000_000_000, "long_context_max_tokens": 200_000_000_000,
            "long_context_batch_tokens": 16 * 2**20, "niah_trials": 100, "eval_every": 200,
            # docs/recipe.md section 3's 4D layout needs pipeline parallel: the nemo backend runs it.
            "anneal_tokens": 40_000_000, "trainer": "nemo", "tp": 8, "pp": 16, "dp": 128,
        },
    }

    def training_layout(self, stage: str, section: str) -> TrainingLayout:
        """What ``herd run --check`` validates against ``trainer``."""
        from herd.lib.llama.model import config_for
        from herd.lib.training.parallelize import model_shape

        try:
            shape = model_shape(config_for(self.model_size, **{**self.model_overrides, "vocab_size": self.vocab_size}))
        except (KeyError, TypeError, ValueError):
            shape = None  # an unknown size fails at the stage's start with its own message
        return TrainingLayout(stage, section, self.trainer, ParallelSizes(tp=self.tp, cp=self.cp, pp=self.pp, dp=self.dp),
                              "pretrain", shape)
