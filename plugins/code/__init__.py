"""The code capability plugin (docs/recipe.md section 6, "Code"): static analysis of generated
code, functional-correctness evaluation in the sandbox (``eval-code``, the
``code_pass_at_k`` evaluator), the training problems as SFT and preference rows
(``code_problems``), synthesis with execution feedback, rejection sampling with
code-specific system prompts judged by ``code_quality``, and the code expert (the
``code_expert`` stage and generator). Its programs run in the ``sandbox`` plugin's
backends. See docs/code.md and docs/sandbox.md."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.code.settings import (
    CodeExpertConfig,
    CodeExpertGeneratorConfig,
    CodeJudgeConfig,
    CodeRejectionSamplingConfig,
    ExecutionFeedbackConfig,
    PassAtKConfig,
    TrainingProblemsConfig,
)


def _pass_at_k(cfg, services):
    from herd.plugins.code.evaluator import PassAtKEvaluator

    return PassAtKEvaluator(cfg, services)


def _execution_feedback(cfg, services):
    from herd.plugins.code.synthesis import ExecutionFeedbackSynthesizer

    return ExecutionFeedbackSynthesizer(cfg, services)


def _training_problems(cfg, services=None):
    from herd.plugins.code.problem_rows import TrainingProblems

    return TrainingProblems(cfg, services)


def _rejection_sampling(cfg, services):
    from herd.plugins.code.rejection_sampling import CodeRejectionSampling

    return CodeRejectionSampling(cfg, services)


def _code_quality(cfg, services=None):
    from herd.plugins.code.judge import CodeJudge

    return CodeJudge(cfg, services)


def _code_expert_generator(cfg):
    from herd.plugins.code.services import load_expert

    return load_expert(cfg)


def _run_code_expert(ctx):
    from herd.plugins.code.expert_stage import run_code_expert

    return run_code_expert(ctx)


@hookimpl
def herd_register_config_sections(register):
    register("code_expert", CodeExpertConfig)


@hookimpl
def herd_register_stages(register):
    register("code_expert", _run_code_expert, reads=("pretrain", "mix"), provides=("expert_model",),
             config_sections=("code_expert", "trainers"),
             description="code expert: continued pretraining on >= 85% code, then repository-level long context")


@hookimpl
def herd_register_generators(register):
    # model_stage: post-training points model_path at that stage's final_model/ when the run has it.
    register("code_expert", _code_expert_generator, config=CodeExpertGeneratorConfig, model_stage="code_expert",
             description="the code expert (the code_expert stage's model) with herd's KV-cache generator")


@hookimpl
def herd_register_judges(register):
    register("code_quality", _code_quality, kind="verifier", config=CodeJudgeConfig,
             description="code correctness (tests in the sandbox) and style (static analysis + rubric)")


@hookimpl
def herd_register_commands(register):
    from herd.plugins.code import eval_command

    register("eval-code", eval_command.add_arguments, eval_command.run,
             help="pass@k of human-eval style samples, run in the sandbox")


@hookimpl
def herd_register_evaluators(register):
    register("code_pass_at_k", _pass_at_k, config=PassAtKConfig, capability="code",
             description="pass@1 of a model on the plugin's held-out problems, run in the sandbox")


@hookimpl
def herd_register_synthesizers(register):
    register("code_problems", _training_problems, config=TrainingProblemsConfig, capability="code",
             description="the plugin's training problems: canonical bodies verified in the sandbox as SFT rows, "
                         "preferred over failing variants (what a tiny model can learn)")
    register("code_execution_feedback", _execution_feedback, config=ExecutionFeedbackConfig, capability="code",
             description="problems from code seeds, solutions + tests checked statically and in the sandbox, "
                         "revised on failure (docs/recipe.md section 6)")
    register("code_rejection_sampling", _rejection_sampling, config=CodeRejectionSamplingConfig, capability="code",
             description="K samples per code prompt under readability/documentation/thoroughness system prompts, "
                         "best correct + stylish kept, hard prompts revised with the judge's review")
