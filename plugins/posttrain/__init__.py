"""Post-training (docs/recipe.md section 5): the ``posttrain`` stage (reward model -> rejection
sampling -> SFT -> DPO -> weight averaging, for N rounds), the ``openai`` generation
backend, ``herd serve``, the built-in ``general_tasks`` synthesizer and the
``exact_answer`` verifier."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl


def _openai_generator(cfg):
    from herd.plugins.posttrain.openai_backend import OpenAIGenerator

    return OpenAIGenerator(cfg)


def _general_tasks(cfg, services=None):
    from herd.plugins.posttrain.tasks import GeneralTasks

    return GeneralTasks(cfg, services)


def _exact_answer(cfg, services=None):
    from herd.plugins.posttrain.tasks import ExactAnswer

    return ExactAnswer(cfg, services)


def _run_posttrain(ctx):
    from herd.plugins.posttrain.stage import run_posttrain

    return run_posttrain(ctx)


def _serve_arguments(parser) -> None:
    from herd.plugins.posttrain.serve import add_arguments

    add_arguments(parser)


def _serve_run(args, app) -> int:
    from herd.plugins.posttrain.serve import run

    return run(args, app)


@hookimpl
def herd_register_config_sections(register):
    from herd.plugins.posttrain.config import PosttrainConfig

    register("posttrain", PosttrainConfig)


@hookimpl
def herd_register_generators(register):
    from herd.plugins.posttrain.openai_backend import OpenAIGeneratorConfig

    register("openai", _openai_generator, config=OpenAIGeneratorConfig,
             description="OpenAI-compatible HTTP endpoint (vLLM, llama.cpp, NIM, herd serve) with a disk cache")


@hookimpl
def herd_register_synthesizers(register):
    from herd.plugins.posttrain.tasks import GeneralTasksConfig

    register("general_tasks", _general_tasks, config=GeneralTasksConfig, capability="general",
             description="templated instructions with checkable answers (SFT and preference rows)")


@hookimpl
def herd_register_judges(register):
    register("exact_answer", _exact_answer, kind="verifier",
             description="1/0 when the response equals the row's reference answer (metadata.answer)")


@hookimpl
def herd_register_stages(register):
    # pretrain is optional: [posttrain] base_model may name a user's checkpoint instead. Expert
    # generators registered with model_stage= find their stage's model among the expert_model providers.
    register("posttrain", _run_posttrain, optional_reads=("pretrain", "provides:expert_model"),
             config_sections=("posttrain", "sft_funnel", "synthesizers", "judges", "generators", "evaluators"),
             description="N rounds of reward model, rejection sampling, SFT, DPO and weight averaging")


@hookimpl
def herd_register_commands(register):
    register("serve", _serve_arguments, _serve_run,
             help="serve a herd or Hugging Face checkpoint over an OpenAI-compatible HTTP API")
