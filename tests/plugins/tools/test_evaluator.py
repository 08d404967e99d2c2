"""The ``tool_use`` evaluator through the registry: a model that answers each held-out
question as its template would scores 1.0 everywhere; one that always calls, or writes
broken calls, is measured as such."""

import json
import re
from dataclasses import dataclass


from herd.core.app import App
from herd.core.hookspecs import hookimpl
from herd.core.services import Services
from herd.lib.chat.text_backend import TextChatMixin
from herd.plugins.tools.eval_items import eval_items
from herd.plugins.tools.evaluator import ToolsEvalConfig

ITEMS = eval_items(12)


def right_answer(prompt: str) -> str:
    """The template's own reply to the question in ``prompt`` (found by its user text)."""
    for question in ITEMS.questions:
        if question.messages()[0].content in prompt:
            answer = ITEMS.answers.get(question.id)
            if answer is None:
                return "I can answer that without a tool."
            return "[" + ", ".join(f"{c.name}(" + ", ".join(f"{k}={v[0]!r}" for k, v in c.parameters.items()) + ")"
                                   for c in answer.calls) + "]"
    raise AssertionError("unknown question")


class Model(TextChatMixin):
    def __init__(self, style: str):
        self.style = style

    def generate(self, prompts, params):
        out = []
        for prompt in prompts:
            offered = re.search(r'"name": "([^"]+)"', prompt)
            name = offered.group(1) if offered else "wolfram_alpha"  # built-ins are offered by name
            if self.style == "right":
                out.append([right_answer(prompt)])
            elif self.style == "always_call":
                out.append([f'{{"name": "{name}", "parameters": {{"query": "1+1"}}}}'])
            else:
                out.append([f'{{"name": "{name}", "parameters": {{"query": '])
        return out


@dataclass
class ModelConfig:
    model_path: str = ""


class ModelPlugin:
    def __init__(self, style):
        self.style = style

    @hookimpl
    def herd_register_generators(self, register):
        register("scripted", lambda cfg: Model(self.style), config=ModelConfig)


def evaluate(style, tmp_path):
    app = App.create(plugins=["tools"], extra_plugins={"scripted": ModelPlugin(style)}, entry_points=False)
    services = Services.for_app(app, workdir=tmp_path)
    evaluator = app.registry.get("evaluators", "tool_use").factory(
        ToolsEvalConfig(questions=12, generator="scripted"), services)
    (tmp_path / "model").mkdir()
    return evaluator.evaluate(tmp_path / "model", tmp_path / "eval")


def test_a_model_that_answers_like_the_templates_scores_one(tmp_path):
    metrics = evaluate("right", tmp_path)
    assert metrics == {"tool_use.accuracy": 1.0, "tool_use.call_accuracy": 1.0, "tool_use.no_call_accuracy": 1.0,
                       "tool_use.valid_calls": 1.0, "tool_use.malformed": 0.0, "tool_use.unanswered": 0.0}
    verdicts = json.loads((tmp_path / "eval" / "tool_use_verdicts.json").read_text())
    assert len(verdicts["results"]) == 12 and all(r["correct"] for r in verdicts["results"])
    assert len((tmp_path / "eval" / "tool_use_responses.jsonl").read_text().splitlines()) == 12


def test_calling_everywhere_fails_the_no_call_questions(tmp_path):
    metrics = evaluate("always_call", tmp_path)
    assert metrics["tool_use.no_call_accuracy"] == 0.0
    assert metrics["tool_use.valid_calls"] == 1.0  # they parse; the values are wrong
    assert metrics["tool_use.call_accuracy"] == 0.0


def test_broken_calls_are_malformed_not_abstention(tmp_path):
    metrics = evaluate("broken", tmp_path)
    assert metrics["tool_use.malformed"] == 1.0
    assert metrics["tool_use.no_call_accuracy"] == 0.0 and metrics["tool_use.valid_calls"] == 0.0


def test_bad_settings_are_refused_before_a_run():
    from herd.core.config import range_problems

    assert range_problems(ToolsEvalConfig(questions=0), "evaluators.tool_use")
