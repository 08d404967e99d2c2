"""The long-context capability plugin (docs/recipe.md section 4, long-context pretraining, and
section 6): RULER-compatible synthetic tasks sized to a tokenizer (``long-context
generate``), RULER's string-match scores, ``eval-long`` on any registered generator, the
``long_context`` evaluator, and the ``long_context`` SFT synthesizer (QA over chunks,
hierarchical summaries, code-repository reasoning; ``long-context repo-qa``), and the
``long_documents`` stage: repository-level code documents for the long-context pretraining
steps. The task generators themselves are ``lib.long_context`` (shared with the pretraining
NIAH gate, ``lib.training.niah``). See docs/long_context.md."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.long_context.long_documents_config import LongDocumentsConfig
from herd.plugins.long_context.settings import LongContextEvalConfig
from herd.plugins.long_context.sft_config import LongContextSFTConfig

# The recipe's longest context (docs/recipe.md section 4): the synthesizer's rows may be this
# long; post-training cuts the limit to the model's own context.
MAX_ROW_TOKENS = 131072


def _evaluator(cfg, services):
    from herd.plugins.long_context.evaluator import LongContextEvaluator

    return LongContextEvaluator(cfg, services)


def _synthesizer(cfg, services):
    from herd.plugins.long_context.synthesis import LongContextSynthesizer

    return LongContextSynthesizer(cfg, services)


@hookimpl
def herd_register_commands(register):
    from herd.plugins.long_context import command, eval_command

    register("long-context", command.add_arguments, command.run,
             help="RULER-compatible samples (`long-context generate --task T --length N ...`) and "
                  "code-repository questions (`long-context repo-qa --package NAME ...`)")
    register("eval-long", eval_command.add_arguments, eval_command.run,
             help="RULER scores of a model per task and length (generate, ask a generator, string-match)")


@hookimpl
def herd_register_evaluators(register):
    register("long_context", _evaluator, config=LongContextEvalConfig, capability="long_context",
             description="RULER NIAH and variable tracking at the configured lengths (string_match_all)")


@hookimpl
def herd_register_synthesizers(register):
    register("long_context", _synthesizer, config=LongContextSFTConfig, capability="long_context",
             max_len=MAX_ROW_TOKENS,
             description="long-context SFT rows sized to the model's context: QA over chunks, hierarchical "
                         "summaries, code-repository reasoning (import graph)")


def _run_long_documents(ctx):
    from herd.plugins.long_context.long_documents import run_long_documents

    return run_long_documents(ctx)


@hookimpl
def herd_register_config_sections(register):
    register("long_documents", LongDocumentsConfig)


@hookimpl
def herd_register_stages(register):
    # provides: the pretraining stage reads "provides:long_documents" (it never names this plugin).
    register("long_documents", _run_long_documents, provides=("long_documents",),
             config_sections=("long_documents",),
             description="repository-level code documents (installed packages' source in import order) "
                         "for the long-context pretraining steps")
