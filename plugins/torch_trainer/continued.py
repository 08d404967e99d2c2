"""Continued pretraining: start from a trained model and train on new data (docs/recipe.md
section 6: the code expert continues pretraining on >85% code, then a long-context stage).

Capability plugins call ``continued_pretraining`` with tokenised data (see
``herd.lib.llama.packing.write_token_shards``); it builds a ``TrainJob`` for the
configured trainer backend with a ``continued`` stage (warm-up + cosine) and, optionally,
a ``long_context`` stage.
"""

from __future__ import annotations

from pathlib import Path

from herd.core.protocols import ParallelSizes, TrainJob, TrainResult, TrainStage
from herd.plugins.torch_trainer.config import TorchTrainerConfig


def continued_pretraining(
    init_from: Path,
    data_dir: Path,
    output_dir: Path,
    *,
    tokens: int,
    seq_len: int,
    batch_tokens: int,
    lr_peak: float = 1e-4,
    lr_final: float = 1e-5,
    warmup_steps: int = 10,
    long_context_len: int = 0,
    long_context_tokens: int = 0,
    eval_dir: Path | None = None,
    tokenizer: Path | None = None,
    parallel: ParallelSizes | None = None,
    trainer_cfg: TorchTrainerConfig | None = None,
    seed: int = 0,
    resume: bool = False,
) -> TrainResult:
    """Train the model in ``init_from`` (herd or Hugging Face checkpoint directory) on
    ``data_dir``; returns the result whose ``checkpoint`` is the new model directory."""
    from herd.plugins.torch_trainer.trainer import TorchTrainer

    stages = [TrainStage("continued", "continued", tokens, seq_len, lr_peak, lr_final,
                         batch_tokens=batch_tokens, warmup_steps=warmup_steps)]
    if long_context_len:
        stages.append(TrainStage(f"long_{long_context_len}", "long_context", long_context_tokens or tokens // 10,
                                 long_context_len, lr_final, lr_final,
                                 batch_tokens=max(batch_tokens, long_context_len),
                                 extra={"max_tokens": 2 * (long_context_tokens or tokens // 10)}))
    tok = tokenizer
    if tok is None and (Path(init_from) / "tokenizer.json").is_file():
        tok = Path(init_from)
    job = TrainJob(model={}, stages=stages, parallel=parallel or ParallelSizes(), output_dir=Path(output_dir),
                   data_dir=Path(data_dir), seed=seed, resume=resume, eval_dir=eval_dir,
                   init_from=Path(init_from), tokenizer=tok)
    return TorchTrainer(trainer_cfg).train(job)
