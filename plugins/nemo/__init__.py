"""The NeMo backend's launch side (issue 10): the 4D layout planner (``herd plan``) and
NeMo-Run job generation (``herd nemo-job``) for NeMo AutoModel and Megatron-Bridge.

Loading this plugin is cheap: ``nemo_run`` (and later ``nemo_automodel``) are imported
only inside the commands that need them.
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
    from herd.plugins.nemo.job_command import add_arguments

    add_arguments(parser)


def _job_run(args, app) -> int:
    from herd.plugins.nemo.job_command import run

    return run(args, app)


@hookimpl
def herd_register_config_sections(register):
    from herd.plugins.nemo.config import NemoConfig

    register("nemo", NemoConfig)


@hookimpl
def herd_register_commands(register):
    register("plan", _plan_arguments, _plan_run,
             help="choose tp/cp/pp/dp, micro-batch and checkpointing for a model on N GPUs")
    register("nemo-job", _job_arguments, _job_run,
             help="build (and submit) the NeMo-Run job that pretrains the config on local/docker/slurm/k8s/skypilot")
