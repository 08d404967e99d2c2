"""Held-out tool-use questions in BFCL's format, made by the trajectory templates with a
seed no synthesizer uses: single calls of a Llama 3.1 built-in tool (short prompts: they
fit the built-in profiles' small models), single and parallel calls of generated functions
(the answer: the template's own call, its values exact), and questions no offered tool fits,
with built-ins or functions on offer (the answer: no call)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from herd.core.records import ChatMessage
from herd.plugins.tools.bfcl.rows import BfclAnswer, BfclQuestion, ExpectedCall
from herd.plugins.tools.parsing import Calls, parse_text
from herd.plugins.tools.tasks import (Draft, irrelevant_tool, no_call, parallel_custom_maths, single_builtin_maths,
                                      single_custom_maths)

EVAL_SEED = 424_242  # ToolsConfig.seed drives the synthesizer; this one only the evaluation

def _builtin_irrelevance(rng: random.Random, i: int) -> Draft:
    draft = irrelevant_tool(rng, i)
    return Draft(draft.id, draft.category, draft.user, [], draft.answer, builtins=["wolfram_alpha"])


# (template, BFCL category): the categories the AST rules score; built-in ones first, so
# that a few questions are all short.
_TEMPLATES = ((single_builtin_maths, "simple_builtin"), (_builtin_irrelevance, "irrelevance_builtin"),
              (single_custom_maths, "simple"), (parallel_custom_maths, "parallel"),
              (irrelevant_tool, "irrelevance"), (no_call, "irrelevance"))


@dataclass(frozen=True)
class EvalItems:
    questions: list[BfclQuestion]
    answers: dict[str, BfclAnswer]


def _question(draft: Draft, qid: str) -> BfclQuestion:
    functions = [{"name": f.name, "description": f.description, "parameters": f.parameters} for f in draft.functions]
    return BfclQuestion(qid, [[ChatMessage("user", draft.user)]], functions, tuple(draft.builtins))


def _expected(draft: Draft) -> list[ExpectedCall]:
    parsed = parse_text(draft.turns[0]([]), [f.name for f in draft.functions] + list(draft.builtins))
    if not isinstance(parsed, Calls):  # a template's own call always parses (tests hold it)
        raise ValueError(f"template {draft.category}: its first turn is not a call ({parsed})")
    return [ExpectedCall(c.name, {k: [v] for k, v in c.arguments.items()}) for c in parsed.calls]


def eval_items(count: int, seed: int = EVAL_SEED) -> EvalItems:
    rng = random.Random(seed)
    questions, answers = [], {}
    for i in range(count):
        template, category = _TEMPLATES[i % len(_TEMPLATES)]
        draft = template(rng, i)
        qid = f"{category}_{i}"
        questions.append(_question(draft, qid))
        if draft.turns:
            answers[qid] = BfclAnswer(qid, _expected(draft))
    return EvalItems(questions, answers)
