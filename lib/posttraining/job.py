"""Running one ``PostTrainJob`` (docs/recipe.md section 5) on whatever a training backend
provides: the backend builds and parallelizes the models (``PostTrainBackend``); the
maths (``sft``, ``dpo``, ``reward``), the data, the result and the saved model are the
same for every backend. Under torchrun every rank calls ``run_post_train``; rank 0 writes
the model, the step metrics (``<output_dir>/metrics.jsonl``, core/metrics.py) and the
console's step lines."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from herd.core.atomic import umask_mode
from herd.core.errors import ConfigError
from herd.core.metrics import METRICS_FILE
from herd.core.protocols import PostTrainJob, PostTrainResult
from herd.lib.chat.format import ChatFormat
from herd.lib.llama.model import LlamaConfig
from herd.lib.posttraining.dpo import DPOSettings, train_dpo
from herd.lib.posttraining.models import load_policy, load_tokenizer, save_policy
from herd.lib.posttraining.parallel import DataParallel
from herd.lib.posttraining.reward import (pairwise_accuracy, reward_model_from_causal, reward_pairs, split_heldout,
                                          train_reward_model)
from herd.lib.posttraining.rows import read_preference_rows, read_sft_rows
from herd.lib.posttraining.sft import train_sft
from herd.lib.training.loggers import open_loggers
from herd.lib.training.step_log import JobSteps


class PostTrainBackend:
    """What a training backend gives ``run_post_train``. ``rank`` is the global rank (0
    writes the outputs); ``through_forward`` says DPO must run the policy's own forward
    (a wrapped model whose sub-modules cannot be called one by one)."""

    rank: int = 0
    through_forward: bool = False
    peak_tflops: float = 0.0  # MFU's denominator (0: the GPU table, or measured on a CPU)

    def data_parallel(self, kind: str) -> DataParallel:
        """How the job's ``kind`` model shares batches and gradients over the ranks."""
        raise NotImplementedError

    def policy(self, model_dir: Path, trainable: bool) -> torch.nn.Module:
        """The causal LM of ``model_dir`` on the device, parallelized (frozen if not ``trainable``)."""
        raise NotImplementedError

    def policy_state(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The trained policy's full state in herd's parameter names (complete on rank 0;
        a collective)."""
        raise NotImplementedError

    def reward_model(self, model_dir: Path, seed: int) -> torch.nn.Module:
        """A fresh reward model on the causal LM of ``model_dir`` (replicated on every
        data-parallel rank: the recipe's RM trains with data parallelism only here)."""
        raise NotImplementedError


def policy_config(model_dir: Path) -> LlamaConfig:
    from herd.lib.llama.hf_io import CONFIG_FILE, config_from_hf

    model_dir = Path(model_dir)
    if (model_dir / CONFIG_FILE).is_file():
        return LlamaConfig.from_dict(json.loads((model_dir / CONFIG_FILE).read_text()))
    return config_from_hf(json.loads((model_dir / "config.json").read_text()), str(model_dir / "config.json"))


def run_post_train(job: PostTrainJob, backend: PostTrainBackend) -> PostTrainResult:
    tokenizer = load_tokenizer(job.model_dir)
    chat = ChatFormat.from_tokenizer(tokenizer)
    pad_id = tokenizer.special.pad
    run = {"sft": _sft, "dpo": _dpo, "reward_model": _reward}[job.kind]
    steps = job_steps(job, backend)
    try:
        return run(job, backend, chat, pad_id, steps)
    finally:
        steps.close()


def job_steps(job: PostTrainJob, backend: PostTrainBackend) -> JobSteps:
    """Where the job's steps go: on rank 0 a fresh ``metrics.jsonl`` in its output folder,
    the ``[run] loggers`` and the console; elsewhere nowhere."""
    if backend.rank != 0:
        return JobSteps(None)
    out = Path(job.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / METRICS_FILE).unlink(missing_ok=True)
    flops = policy_config(job.model_dir).flops_per_token(0)  # 6N: forward and backward over the weights
    name = "/".join([p for p in out.parts if p.startswith("round_")][-1:] + [out.name])  # round_1/sft_0
    return JobSteps.open(out / METRICS_FILE, job.kind, f"{job.kind} {name}", flops,
                         backend.data_parallel(job.kind).device, backend.peak_tflops,
                         open_loggers(job.loggers, out, name.replace("/", "-")))


def _sft(job: PostTrainJob, backend: PostTrainBackend, chat: ChatFormat, pad_id: int,
         steps: JobSteps) -> PostTrainResult:
    s = job.settings
    rows = read_sft_rows(job.data)
    model = backend.policy(job.model_dir, trainable=True)
    stats = train_sft(model, chat, rows, lr=s.lr, epochs=s.epochs, batch_sequences=s.batch_size, max_len=s.max_len,
                      pad_id=pad_id, seed=s.seed, dp=backend.data_parallel("sft"), steps=steps)
    _save_policy(job, backend, model)
    return PostTrainResult(kind=job.kind, model_dir=Path(job.output_dir), losses=stats.loss, rows=stats.rows,
                           packed_sequences=stats.packed_sequences, target_tokens=stats.target_tokens)


def _dpo(job: PostTrainJob, backend: PostTrainBackend, chat: ChatFormat, pad_id: int,
         steps: JobSteps) -> PostTrainResult:
    s = job.settings
    rows = read_preference_rows(job.data)
    policy = backend.policy(job.model_dir, trainable=True)
    reference = backend.policy(job.reference_dir or job.model_dir, trainable=False)
    settings = DPOSettings(beta=s.beta, nll_coef=s.nll_coef, mask_special=s.mask_special, lr=s.lr, epochs=s.epochs,
                           batch_pairs=s.batch_size, max_len=s.max_len, seed=s.seed)
    stats = train_dpo(policy, reference, chat, rows, settings, pad_id, backend.data_parallel("dpo"),
                      backend.through_forward, steps)
    del reference
    _save_policy(job, backend, policy)
    return PostTrainResult(kind=job.kind, model_dir=Path(job.output_dir), losses=stats.loss, pairs=stats.pairs,
                           nll=stats.nll, margins=stats.margins, accuracy=stats.accuracy)


def _reward(job: PostTrainJob, backend: PostTrainBackend, chat: ChatFormat, pad_id: int,
            steps: JobSteps) -> PostTrainResult:
    s = job.settings
    data = reward_pairs(read_preference_rows(job.data), s.similarity)
    train, heldout = split_heldout(data, s.heldout_fraction)
    if not train.rows:
        raise ConfigError(f"reward-model job {job.data}: no preference row keeps a pair after dropping "
                          f"near-identical responses (similarity {s.similarity}); nothing to train on")
    model = backend.reward_model(job.model_dir, s.seed)
    before = pairwise_accuracy(model, chat, heldout, s.max_len)
    stats = train_reward_model(model, chat, train, lr=s.lr, epochs=s.epochs, batch_rows=s.batch_size,
                               max_len=s.max_len, seed=s.seed, dp=backend.data_parallel("reward_model"), steps=steps)
    after = pairwise_accuracy(model, chat, heldout, s.max_len)
    if backend.rank == 0:
        out = Path(job.output_dir)
        model.save_pretrained(str(out))
        umask_mode(out)
        load_tokenizer(job.model_dir).save_hf(out)
    return PostTrainResult(kind=job.kind, model_dir=Path(job.output_dir), losses=stats.loss, pairs=stats.pairs,
                           train_accuracy=stats.accuracy, train_margin=stats.margin,
                           heldout_pairs=sum(len(p) for p in heldout.pairs), heldout_accuracy=after,
                           heldout_accuracy_untrained=before, dropped=dict(data.dropped))


def _save_policy(job: PostTrainJob, backend: PostTrainBackend, model: torch.nn.Module) -> None:
    from herd.lib.llama.hf_io import model_from_state

    state = backend.policy_state(model)
    if backend.rank != 0:
        return
    trained = model_from_state(policy_config(job.model_dir), {k: v.float() for k, v in state.items()})
    save_policy(trained, job.model_dir, Path(job.output_dir))


def fresh_reward_model(model_dir: Path, seed: int, device: str) -> torch.nn.Module:
    return reward_model_from_causal(model_dir, seed=seed).to(device)


def herd_policy(model_dir: Path, device: str, trainable: bool) -> torch.nn.Module:
    model = load_policy(model_dir).to(device)
    model.requires_grad_(trainable)
    return model
