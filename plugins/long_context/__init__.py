"""The long-context capability plugin (docs/recipe.md section 4, long-context pretraining, and
section 6): RULER-compatible synthetic tasks sized to a tokenizer (``long-context
generate``), RULER's string-match scores, ``eval-long`` on any registered generator, and the
``long_context`` evaluator. See docs/long_context.md."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.long_context.settings import LongContextEvalConfig


def _evaluator(cfg, services):
    from herd.plugins.long_context.evaluator import LongContextEvaluator

    return LongContextEvaluator(cfg, services)


@hookimpl
def herd_register_commands(register):
    from herd.plugins.long_context import eval_command, generate_command

    register("long-context", generate_command.add_arguments, generate_command.run,
             help="RULER-compatible long-context samples: `long-context generate --task T --length N ...`")
    register("eval-long", eval_command.add_arguments, eval_command.run,
             help="RULER scores of a model per task and length (generate, ask a generator, string-match)")


@hookimpl
def herd_register_evaluators(register):
    register("long_context", _evaluator, config=LongContextEvalConfig, capability="long_context",
             description="RULER NIAH and variable tracking at the configured lengths (string_match_all)")
