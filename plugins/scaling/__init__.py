"""Scaling laws (docs/recipe.md section 2): IsoFLOP sweep planning and running, parabola and
power-law fits, compute-optimal prediction, two-step downstream accuracy prediction."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.scaling.config import ScalingConfig


def _add_arguments(parser) -> None:
    from herd.plugins.scaling.command import add_arguments

    add_arguments(parser)


def _run(args, app) -> int:
    from herd.plugins.scaling.command import run

    return run(args, app)


@hookimpl
def herd_register_config_sections(register):
    register("scaling", ScalingConfig)


@hookimpl
def herd_register_commands(register):
    register("scaling", _add_arguments, _run, help="IsoFLOP sweeps and scaling-law fits (plan, run, predict)")
