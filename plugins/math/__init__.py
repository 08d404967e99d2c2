"""The math capability (docs/recipe.md section 6, math and reasoning): an exact answer
verifier and an arithmetic step checker, as judges of kind ``verifier`` and as the
``math verify`` and ``math check-steps`` commands; templated and mined problems as SFT and
learning-from-mistakes rows (the ``math`` synthesizer); pass@1 and maj@k on held-out
problems (the ``math`` evaluator and ``eval-math``); the ``math_python`` rollout
environment, which runs a solution's Python in the sandbox. Enable with ``--plugins math``.
See docs/math.md."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.math.config import (MathAnswerConfig, MathEvalConfig, MathPythonConfig, MathStepsConfig,
                                      MathSynthConfig)


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


def _synthesizer(cfg, services):
    from herd.plugins.math.synthesis import MathSynthesizer

    return MathSynthesizer(cfg, services)


def _evaluator(cfg, services):
    from herd.plugins.math.evaluator import MathEvaluator

    return MathEvaluator(cfg, services)


def _environment(cfg, services):
    from herd.plugins.math.environment import MathPythonEnvironment

    return MathPythonEnvironment(cfg, services)


def _eval_arguments(parser) -> None:
    from herd.plugins.math.eval_command import add_arguments

    add_arguments(parser)


def _eval_run(args, app) -> int:
    from herd.plugins.math.eval_command import run

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
    register("eval-math", _eval_arguments, _eval_run,
             help="pass@1 and maj@k of a model on the math plugin's held-out problems (answer verifier)")


@hookimpl
def herd_register_synthesizers(register):
    register("math", _synthesizer, config=MathSynthConfig, capability="math",
             description="templated and corpus-mined word problems: worked solutions passed by the answer verifier "
                         "and step checker, learning-from-mistakes rows (wrong, feedback, corrected), text + Python "
                         "solutions run in the sandbox, corrections of the policy's wrong answers")


@hookimpl
def herd_register_environments(register):
    register("math_python", _environment, config=MathPythonConfig, capability="math",
             description="runs the Python a math turn ends with in the sandbox; answers with its output "
                         "(an error line on a crash, a loop or a flood)")


@hookimpl
def herd_register_evaluators(register):
    register("math", _evaluator, config=MathEvalConfig, capability="math",
             description="held-out templated word problems: pass@1 (greedy) and maj@k, by the answer verifier")
