"""``[posttrain]``: the post-training loop's settings (docs/recipe.md section 5).

Defaults are the ``default`` profile (a small CPU model, 2 rounds); ``quick`` is the
tests' end-to-end run (1 round, well under a minute on 2 cores); ``full`` carries the
recipe's numbers (6 rounds, K = 10-30 samples, LR 1e-5, beta 0.1, NLL 0.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from herd.core.config import fraction, non_negative, one_of, positive, ranged

from herd.core.protocols import ModelShape, ParallelSizes, TrainingLayout


@dataclass
class PosttrainConfig:
    rounds: int = positive(2)
    seed: int = 0
    # CPU threads for torch during the stage (0: leave torch's default). Tiny models run
    # fastest on one thread, above all on a shared machine where spinning threads collide.
    torch_threads: int = non_negative(1)
    # Tokens per row (a row longer than its limit is dropped into the ledger with its reason);
    # a capability may allow longer rows, up to the model's context (see lengths.py).
    max_len: int = positive(256)
    max_len_by_capability: dict[str, int] = positive(default_factory=dict)
    # A local Hugging Face Llama checkpoint to post-train instead of the pretrain stage's
    # final model ("" = the pretrain stage's); run with `--stages posttrain,evaluate,report`.
    base_model: str = ""

    # Data. Capability synthesizers (empty: every registered one) and their per-round budget;
    # human-written data files (JSONL or HF datasets on disk), used in every round.
    synthesizers: list[str] = field(default_factory=list)
    # 576: enough general rows that the recipe's SFT mix (docs/recipe.md section 5: about half
    # general) keeps the built-in code problems and multilingual prompts instead of cutting
    # them to the general rows' size (192 kept 58 of 174 code rows; code pass@1 stayed 0).
    synth_budget: int = non_negative(576)
    sft_data: list[str] = field(default_factory=list)
    preference_data: list[str] = field(default_factory=list)

    # Rejection sampling: K samples per prompt from the latest policy.
    generator: str = "local"  # generation backend for the policy's samples
    samples_per_prompt: int = positive(6)
    rs_prompts: int = non_negative(64)  # prompts per round
    temperature: float = non_negative(1.0)
    top_p: float = ranged(0.95, min=0, max=1, exclusive=True)
    max_new_tokens: int = positive(12)
    system_prompts: dict[str, str] = field(default_factory=dict)  # capability -> system prompt
    expert_generators: dict[str, str] = field(default_factory=dict)  # capability -> generator name
    verifiers: list[str] = field(default_factory=list)  # judges of kind "verifier"; empty: all
    # Model turns per rollout: after each, the environments that apply may answer (a tool's
    # result) and the model goes on; a rollout still answered at this cap ends "step_cap".
    rollout_max_steps: int = positive(4)
    environments: list[str] = field(default_factory=list)  # rollout environments; empty: every registered one

    # Reward model (Bradley-Terry, all rounds' preference data).
    rm_lr: float = positive(1e-3)
    rm_epochs: int = non_negative(3)
    rm_batch_rows: int = positive(8)
    rm_seeds: list[int] = field(default_factory=lambda: [0])
    rm_similarity: float = fraction(0.9)  # pairs at least this similar are dropped
    rm_heldout_fraction: float = ranged(0.2, min=0, max=1, exclusive_max=True)  # preference rows kept out of RM training to measure its accuracy

    # SFT (assistant tokens only, packed).
    sft_lr: float = positive(6e-3)  # a tiny CPU model from scratch; the recipe's 1e-5 is the full profile's
    sft_epochs: int = non_negative(12)
    sft_batch_sequences: int = positive(2)
    sft_seeds: list[int] = field(default_factory=lambda: [0, 1])
    sft_lr_scales: list[float] = positive(default_factory=lambda: [1.0])

    # DPO (online: pairs from the newest policy's samples).
    dpo_beta: float = positive(0.1)
    dpo_lr: float = positive(1e-4)
    dpo_nll_coef: float = non_negative(0.2)
    dpo_mask_special: bool = True
    dpo_epochs: int = non_negative(2)
    dpo_batch_pairs: int = positive(8)
    dpo_seeds: list[int] = field(default_factory=lambda: [0, 1])
    dpo_prompts: int = non_negative(48)

    # Evaluation each round: built-in tasks (greedy, exact match) and registered evaluators.
    eval_prompts: int = non_negative(48)
    evaluators: list[str] = field(default_factory=list)  # empty: every registered evaluator
    run_evaluators: bool = True

    # Training backend of the reward-model, SFT and DPO jobs (the `trainers` hook; see
    # herd.lib.posttraining.launch.run_post_train_job): its dtype ("float32" | "bfloat16"),
    # device ("auto" | "cpu" | "cuda") and tensor x data parallel sizes (torchrun above 1 rank).
    trainer: str = "torch"
    dtype: str = one_of("float32", ("float32", "bfloat16"))
    device: str = "auto"
    tp: int = positive(1)
    dp: int = positive(1)

    def training_layout(self, stage: str, section: str) -> TrainingLayout:
        """What ``herd run --check`` validates against ``trainer`` (the model's shape is
        known before the run only for a given ``base_model``)."""
        return TrainingLayout(stage, section, self.trainer, ParallelSizes(tp=self.tp, dp=self.dp), "posttrain",
                              _base_model_shape(self.base_model), self.device)

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {
            "rounds": 1,
            "max_len": 128,
            "synth_budget": 96,
            "samples_per_prompt": 3,
            "rs_prompts": 16,
            "max_new_tokens": 6,
            "rm_epochs": 2,
            "sft_epochs": 16,
            "sft_seeds": [0],
            "dpo_seeds": [0, 1],
            "dpo_prompts": 12,
            "dpo_epochs": 1,
            "eval_prompts": 24,
            "run_evaluators": False,
        },
        "full": {
            "rounds": 6,
            "torch_threads": 0,
            "max_len": 8192,
            "synth_budget": 100000,
            "samples_per_prompt": 20,
            "rs_prompts": 50000,
            "max_new_tokens": 2048,
            "rollout_max_steps": 8,
            "temperature": 0.9,
            "rm_lr": 1e-5,
            "rm_epochs": 1,
            "rm_seeds": [0, 1, 2],
            "sft_lr": 1e-5,
            "sft_epochs": 2,
            "sft_batch_sequences": 64,
            "sft_seeds": [0, 1, 2],
            "dpo_lr": 1e-5,
            "dpo_epochs": 1,
            "dpo_batch_pairs": 64,
            "dpo_seeds": [0, 1, 2],
            "dpo_prompts": 20000,
            "eval_prompts": 1000,
            "trainer": "nemo",
            "dtype": "bfloat16",
            "tp": 8,
            "dp": 16,
        },
    }


def _base_model_shape(base_model: str) -> ModelShape | None:
    if not base_model or not (Path(base_model) / "config.json").is_file():
        return None
    from herd.lib.posttraining.job import policy_config
    from herd.lib.training.parallelize import model_shape

    return model_shape(policy_config(Path(base_model)))
