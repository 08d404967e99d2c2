"""The code_pass_at_k evaluator: a model's completions of the held-out problems run in
the sandbox. The model is a scripted double that knows only the add_N family."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from herd.core.app import App
from herd.core.errors import ConfigError
from herd.core.hookspecs import hookimpl
from herd.core.plugins import load_plugins
from herd.core.protocols import SamplingParams
from herd.plugins.code.evaluator import truncate
from herd.plugins.code.settings import PassAtKConfig
from herd.lib.sandbox.choose import available_backend
from herd.lib.sandbox.config import SandboxConfig
from herd.lib.chat.text_backend import TextChatMixin


class AddOnlyModel(TextChatMixin):
    """Completes ``def add_N(x)`` correctly (then rambles on); anything else wrongly."""

    def __init__(self):
        self.params: list[SamplingParams] = []

    def generate(self, prompts, params):
        self.params.append(params)
        replies = []
        for prompt in prompts:
            match = re.match(r"def add_(\d+)\(x\)", prompt)
            body = f"    return x + {match.group(1)}\n" if match else "    return None\n"
            replies.append([body + "\n\ndef unrelated():\n    return 1\n"] * params.n)
        return replies


def test_pass_at_1_counts_only_what_the_model_solves(tmp_path):
    if available_backend(SandboxConfig()) is None:
        pytest.skip("no isolated sandbox here (no Docker image, no working bubblewrap)")
    model = AddOnlyModel()
    requested = []

    def generator_for(model_dir):
        requested.append(model_dir)
        return model

    registry = load_plugins(["code"], entry_points=False).registry
    component = registry.get("evaluators", "code_pass_at_k")
    assert component.options["capability"] == "code"
    evaluator = component.factory(PassAtKConfig(timeout_s=5), SimpleNamespace(generator_for=generator_for))
    metrics = evaluator.evaluate(tmp_path / "model", tmp_path / "eval")
    assert requested == [tmp_path / "model"]
    assert metrics["code.tasks"] == 26
    assert metrics["code.passed"] == 3  # add_3, add_7, add_8
    assert metrics["code.pass@1"] == pytest.approx(3 / 26)
    assert model.params[0].temperature == 0.0 and "\ndef " in model.params[0].stop
    samples = [json.loads(l) for l in (tmp_path / "eval" / "code_samples.jsonl").read_text().splitlines()]
    assert all("unrelated" not in s["completion"] for s in samples)
    results = (tmp_path / "eval" / "code_samples.jsonl_results.jsonl").read_text().splitlines()
    assert len(results) == 26


def test_truncate_stops_at_the_next_top_level_statement():
    assert truncate("    return 1\n\ndef g():\n    pass\n") == "    return 1\n"
    assert truncate("    return 1\nprint(3)") == "    return 1"
    assert truncate("    return 1") == "    return 1"


def test_evaluator_without_a_generator_is_a_config_error(tmp_path):
    from herd.plugins.code.evaluator import PassAtKEvaluator

    with pytest.raises(ConfigError, match="generator_for"):
        PassAtKEvaluator(PassAtKConfig(), SimpleNamespace()).evaluate(tmp_path, tmp_path)


@dataclass
class ScriptedModelConfig:
    model_path: str = ""


class ScriptedModelPlugin:
    """Registers the scripted model as a generator backend, as a model plugin would."""

    def __init__(self):
        self.loaded: list[str] = []

    @hookimpl
    def herd_register_generators(self, register):
        def factory(cfg):
            self.loaded.append(cfg.model_path)
            return AddOnlyModel()

        register("scripted", factory, config=ScriptedModelConfig)


def test_evaluate_stage_path_builds_the_generator_for_the_model_dir(tmp_path):
    """The evaluate stage hands its context (registry + config), not a generator."""
    if available_backend(SandboxConfig()) is None:
        pytest.skip("no isolated sandbox here (no Docker image, no working bubblewrap)")
    plugin = ScriptedModelPlugin()
    app = App.create(plugins=["code"], extra_plugins={"scripted_model": plugin}, entry_points=False)
    context = SimpleNamespace(registry=app.registry, config=app.config)
    evaluator = app.registry.get("evaluators", "code_pass_at_k").factory(
        PassAtKConfig(generator="scripted", timeout_s=5), context)
    metrics = evaluator.evaluate(tmp_path / "final_model", tmp_path / "eval")
    assert plugin.loaded == [str(tmp_path / "final_model")]
    assert metrics["code.passed"] == 3
