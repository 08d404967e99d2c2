"""The ``torch`` training backend and the ``pretrain`` stage (docs/recipe.md section 4):
AdamW with warm-up + cosine, batch/sequence ramp, long-context extension gated on
recovery and needle-in-a-haystack, annealing with Polyak averaging, atomic resumable
checkpoints, FSDP2/DTensor parallelism under torchrun."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.torch_trainer.config import PretrainConfig, TorchTrainerConfig

LONG_DOCUMENTS = "long_documents"


def _torch_trainer(cfg):
    from herd.plugins.torch_trainer.trainer import TorchTrainer

    return TorchTrainer(cfg)


def _run_pretrain(ctx):
    from herd.plugins.torch_trainer.stage import run_pretrain

    return run_pretrain(ctx)


@hookimpl
def herd_register_config_sections(register):
    register("pretrain", PretrainConfig)


@hookimpl
def herd_register_trainers(register):
    register("torch", _torch_trainer, description="PyTorch backend: CPU/GPU, FSDP2 dp + DTensor tp under torchrun",
             config=TorchTrainerConfig)


@hookimpl
def herd_register_stages(register):
    register("pretrain", _run_pretrain, description="tokenizer, token shards, initial / long-context / anneal pretraining",
             reads=("mix",), config_sections=("pretrain", "trainers"),
             # Long documents a plugin adds to the long-context steps' data (4.2), by what
             # its stage provides: the long_context plugin's repository-level code.
             optional_reads=(f"provides:{LONG_DOCUMENTS}",))
