"""The NeMo backend (issue 10): the ``nemo`` trainer (herd's loop on NeMo AutoModel's
distributed components), ``herd train`` (NeMo-Run jobs: local torchrun, Docker, Slurm,
Kubernetes, SkyPilot; Megatron-Bridge out of process) and the 4D layout planner
(``herd plan``).

Loading this plugin is cheap: ``nemo_automodel`` and ``nemo_run`` are imported only when
the trainer or a command runs.
"""

from __future__ import annotations

from herd.core.hookspecs import hookimpl


def _plan_arguments(parser) -> None:
    from herd.plugins.nemo.plan_command import add_arguments

    add_arguments(parser)


def _plan_run(args, app) -> int:
    from herd.plugins.nemo.plan_command import run

    return run(args, app)


def _job_arguments(parser) -> None:
    from herd.plugins.nemo.train_command import add_arguments

    add_arguments(parser)


def _job_run(args, app) -> int:
    from herd.plugins.nemo.train_command import run

    return run(args, app)


def _image_arguments(parser) -> None:
    from herd.plugins.nemo.image_command import add_arguments

    add_arguments(parser)


def _image_run(args, app) -> int:
    from herd.plugins.nemo.image_command import run

    return run(args, app)


def _require_automodel() -> None:
    import importlib.util

    from herd.core.errors import PluginError

    if importlib.util.find_spec("nemo_automodel") is None:
        raise PluginError("the nemo trainer needs NeMo AutoModel, which is not installed; "
                          "install it with: bash plugins/nemo/install.sh")


def _checked_nemo_trainer(cfg):
    _require_automodel()
    from herd.plugins.nemo.trainer import NemoTrainer

    return NemoTrainer(cfg)


@hookimpl
def herd_register_trainers(register):
    from herd.plugins.nemo.config import NemoTrainerConfig

    register("nemo", _checked_nemo_trainer, config=NemoTrainerConfig,
             description="NeMo AutoModel backend: FSDP2 dp, DTensor tp, 1F1B pp, document-masked all-gather cp under torchrun")


@hookimpl
def herd_register_config_sections(register):
    from herd.plugins.nemo.config import NemoConfig

    register("nemo", NemoConfig)


@hookimpl
def herd_register_commands(register):
    register("plan", _plan_arguments, _plan_run,
             help="choose tp/cp/pp/dp, micro-batch and checkpointing for a model on N GPUs")
    register("train", _job_arguments, _job_run,
             help="pretrain the config through a NeMo-Run job: local torchrun, docker, slurm, k8s, skypilot "
                  "(--dry-run prints the jobs and writes nothing)")
    register("build-image", _image_arguments, _image_run,
             help="write the Dockerfile of an image with herd on a NeMo image and print its docker build command")
