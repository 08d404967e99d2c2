"""``run_post_train_job``: what the posttrain stage calls to train one reward model, SFT or
DPO variant on the configured backend without knowing which it is.

A one-process job runs in the caller's process. A job whose ``parallel.world_size`` is
above 1 is written to ``<output_dir>.job.json`` (``{"trainer", "trainer_config", "job"}``)
and started on that many local processes with torchrun (gloo on CPU, nccl on GPU: the
backend chooses by the device), each running ``python -m herd.lib.posttraining.worker``;
rank 0 writes ``<output_dir>/result.json``, which is read back here.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from herd.core.components import Registry
from herd.core.errors import ConfigError, PluginError, StageError
from herd.core.protocols import PostTrainJob, PostTrainResult, Trainer, TrainingLayout
from herd.lib.posttraining.job_io import job_to_dict, result_from_dict
from herd.lib.training.launch import run_torchrun

RESULT = "result.json"


def run_post_train_job(trainer_name: str, trainer_config: Any, job: PostTrainJob,
                       registry: Registry | None = None) -> PostTrainResult:
    """Train ``job`` with the trainer registered as ``trainer_name`` (``[posttrain] trainer``)
    and its config (``[trainers.<name>]``, ``None`` for the defaults). ``registry``: the
    running stage's (default: the always-active plugins' and installed ones')."""
    trainer = build_trainer(trainer_name, trainer_config, registry=registry)
    problems = trainer.check(job_layout(trainer_name, job))
    if problems:
        raise ConfigError(f"post-training {job.kind} job on trainer '{trainer_name}': " + "; ".join(problems))
    if job.parallel.world_size == 1 or "WORLD_SIZE" in os.environ:
        return trainer.post_train(job)
    return _torchrun(trainer_name, trainer_config, job)


def job_layout(trainer_name: str, job: PostTrainJob) -> TrainingLayout:
    """What ``Trainer.check`` validates for ``job`` (its model's shape read from ``model_dir``)."""
    from herd.lib.posttraining.job import policy_config
    from herd.lib.training.parallelize import model_shape

    return TrainingLayout(stage="posttrain", section="posttrain", trainer=trainer_name, parallel=job.parallel,
                          purpose="posttrain", model=model_shape(policy_config(job.model_dir)), device=job.device)


def build_trainer(name: str, config: Any = None, config_fields: dict[str, Any] | None = None,
                  registry: Registry | None = None):
    """The trainer ``name`` from the active plugins' registrations, built with ``config``
    (or its config class filled with ``config_fields``)."""
    if registry is None:
        from herd.core.plugins import load_plugins

        registry = load_plugins().registry
    component = registry.get("trainers", name)
    if config is None and component.config is not None:
        config = component.config(**(config_fields or {}))
    trainer = component.factory(config)
    if not isinstance(trainer, Trainer):
        raise PluginError(f"trainer '{name}' (plugin '{component.plugin}') lacks train, post_train or check (core/protocols.py Trainer); "
                          "set [posttrain] trainer to a backend that implements post-training (torch, nemo)")
    return trainer


def _torchrun(trainer_name: str, trainer_config: Any, job: PostTrainJob) -> PostTrainResult:
    out = Path(job.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULT).unlink(missing_ok=True)
    spec = out.parent / f"{out.name}.job.json"
    fields = dataclasses.asdict(trainer_config) if dataclasses.is_dataclass(trainer_config) else {}
    spec.write_text(json.dumps({"trainer": trainer_name, "trainer_config": fields, "job": job_to_dict(job)}, indent=2))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={job.parallel.world_size}", "-m", "herd.lib.posttraining.worker", str(spec)]
    env = dict(os.environ)
    if job.device == "cpu" or (job.device == "auto" and not _cuda()):
        env.setdefault("OMP_NUM_THREADS", "1")  # the ranks share the cores
    code, output = run_torchrun(cmd, logging.getLogger("herd.posttrain"), env)
    if code != 0:
        raise StageError(f"post-training {job.kind} job on trainer '{trainer_name}': torchrun exited with "
                         f"{code}; job file {spec}. output tail:\n{output[-3000:]}")
    return result_from_dict(json.loads((out / RESULT).read_text()))


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
