"""The math capability (docs/recipe.md section 6, math and reasoning): an exact answer
verifier and an arithmetic step checker, as judges of kind ``verifier`` and as the
``math verify`` and ``math check-steps`` commands. Enable with ``--plugins math``.
See docs/math.md."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.math.config import MathAnswerConfig, MathStepsConfig


def _math_answer(cfg, services=None):
    from herd.plugins.math.judges import MathAnswer

    return MathAnswer(cfg, services)


def _math_steps(cfg, services=None):
    from herd.plugins.math.judges import MathSteps

    return MathSteps(cfg, services)


def _arguments(parser) -> None:
    from herd.plugins.math.commands import add_arguments

    add_arguments(parser)


def _run(args, app) -> int:
    from herd.plugins.math.commands import run

    return run(args, app)


@hookimpl
def herd_register_judges(register):
    register("math_answer", _math_answer, kind="verifier", config=MathAnswerConfig,
             description="1/0 when the response's final answer equals metadata.reference (exact: rationals, sympy)")
    register("math_steps", _math_steps, kind="verifier", config=MathStepsConfig,
             description="0 when a line of a math response states a wrong arithmetic result")


@hookimpl
def herd_register_commands(register):
    register("math", _arguments, _run,
             help="math verify (final answers against references), math check-steps (arithmetic in solutions)")
