"""Scoring a model: the evaluator builds its generator through the registry, and
``eval-long`` runs herd's own local generator on a tiny real model."""

import json
from dataclasses import dataclass

import pytest

from herd.core.app import App
from herd.core.services import Services
from herd.core.hookspecs import hookimpl
from herd.core.protocols import SamplingParams
from herd.plugins.long_context.settings import LongContextEvalConfig
from tests.conftest import run_cli

from tests.lib.long_context.answers import niah_answers, vt_answers


class ReaderModel:
    """Answers by reading the prompt (a model that solves the task), or never (``wrong``)."""

    def __init__(self, wrong: bool):
        self.wrong = wrong
        self.params: list[SamplingParams] = []

    def generate(self, prompts, params):
        self.params.append(params)
        if self.wrong:
            return [["I do not know."] for _ in prompts]
        return [[" " + " ".join(sorted(vt_answers(p)) if "VAR " in p else niah_answers(p))] for p in prompts]


@dataclass
class ReaderConfig:
    model_path: str = ""


class ReaderPlugin:
    def __init__(self, wrong: bool):
        self.loaded: list[str] = []
        self.wrong = wrong

    @hookimpl
    def herd_register_generators(self, register):
        def factory(cfg):
            self.loaded.append(cfg.model_path)
            return ReaderModel(self.wrong)

        register("reader", factory, config=ReaderConfig)


@pytest.mark.parametrize("wrong, expected", [(False, 1.0), (True, 0.0)])
def test_evaluator_scores_a_model_dir_with_its_own_tokenizer(wrong, expected, tokenizer_dir, tmp_path):
    plugin = ReaderPlugin(wrong)
    app = App.create(plugins=["long_context"], extra_plugins={"reader": plugin}, entry_points=False)
    services = Services.for_app(app, workdir=tmp_path)
    cfg = LongContextEvalConfig(tasks=["niah_single_2", "vt"], lengths=[2048], samples=3, generator="reader")
    evaluator = app.registry.get("evaluators", "long_context").factory(cfg, services)
    metrics = evaluator.evaluate(tokenizer_dir, tmp_path / "eval")
    assert plugin.loaded == [str(tokenizer_dir)]
    assert metrics == {"long_context.niah_single_2.2048": expected, "long_context.vt.2048": expected,
                       "long_context.average": expected}
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert [(r["task"], r["length"], r["samples"]) for r in summary["results"]] == [("niah_single_2", 2048, 3),
                                                                                  ("vt", 2048, 3)]
    rows = [json.loads(line) for line in (tmp_path / "eval" / "vt_2048.jsonl").read_text().splitlines()]
    assert all(r["score"] == expected for r in rows)


@pytest.mark.slow
def test_eval_long_runs_the_local_generator_on_a_real_model(tokenizer_dir, tmp_path):
    import torch

    from herd.lib.llama.hf_io import save_model
    from herd.lib.llama.model import Llama, LlamaConfig
    from herd.lib.llama.tokenizer import Tokenizer

    tok = Tokenizer.load(tokenizer_dir)
    torch.manual_seed(0)
    model = Llama(LlamaConfig(vocab_size=tok.vocab_size, max_seq_len=2048)).eval()
    save_model(model, tmp_path / "model", tokenizer=tok)
    result = run_cli("eval-long", "--model", str(tmp_path / "model"), "--tasks", "niah_single_1,vt",
                     "--lengths", "1024", "--samples", "2", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [(r["task"], r["length"], r["samples"]) for r in summary["results"]] == [("niah_single_1", 1024, 2),
                                                                                  ("vt", 1024, 2)]
    assert all(0.0 <= r["score"] <= 100.0 for r in summary["results"])
    preds = [json.loads(line)["pred"] for line in (tmp_path / "out" / "vt_1024.jsonl").read_text().splitlines()]
    assert len(preds) == 2


def test_eval_long_with_an_unknown_task_exits_2(tmp_path):
    (tmp_path / "model").mkdir()
    result = run_cli("eval-long", "--model", str(tmp_path / "model"), "--tasks", "niah_single_1,nope",
                     "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "unknown long-context task 'nope'" in result.stderr


def test_evaluator_sizes_to_the_models_context_and_skips_what_cannot_fit(tokenizer_dir, tmp_path):
    """A model of 256 tokens (the built-in profiles' size): every length is cut to 256, and a
    task whose template alone is longer is recorded as skipped with its reason, not failed."""
    import shutil

    model_dir = tmp_path / "model"
    shutil.copytree(tokenizer_dir, model_dir)
    (model_dir / "config.json").write_text(json.dumps({"max_position_embeddings": 256}))
    plugin = ReaderPlugin(False)
    app = App.create(plugins=["long_context"], extra_plugins={"reader": plugin}, entry_points=False)
    cfg = LongContextEvalConfig(tasks=["niah_single_2", "vt"], lengths=[2048], samples=2, generator="reader")
    evaluator = app.registry.get("evaluators", "long_context").factory(cfg, Services.for_app(app, workdir=tmp_path))
    metrics = evaluator.evaluate(model_dir, tmp_path / "eval")
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert {s["task"] for s in summary["skipped"]} == {"niah_single_2", "vt"}
    assert all(s["length"] == 256 and "tokens" in s["reason"] for s in summary["skipped"])
    assert metrics == {"long_context.skipped": 2.0} and summary["results"] == []


@pytest.mark.parametrize("at_context, lengths", [(True, [512, 1024]), (False, [512])])
def test_evaluator_asks_the_gates_task_at_the_models_context(at_context, lengths, tokenizer_dir, tmp_path):
    """The post-training check of the pretraining gate: niah_single_1 at the model's context
    (the last long-context step's length), sized by the same rule ([0.97 N, N] tokens)."""
    import shutil

    model_dir = tmp_path / "model"
    shutil.copytree(tokenizer_dir, model_dir)
    (model_dir / "config.json").write_text(json.dumps({"max_position_embeddings": 1024}))
    app = App.create(plugins=["long_context"], extra_plugins={"reader": ReaderPlugin(False)}, entry_points=False)
    cfg = LongContextEvalConfig(tasks=["niah_single_1"], lengths=[512], samples=2, generator="reader",
                                at_context=at_context)
    evaluator = app.registry.get("evaluators", "long_context").factory(cfg, Services.for_app(app, workdir=tmp_path))
    metrics = evaluator.evaluate(model_dir, tmp_path / "eval")
    assert metrics == {**{f"long_context.niah_single_1.{n}": 1.0 for n in lengths}, "long_context.average": 1.0}
    for n in lengths:
        rows = [json.loads(line) for line in (tmp_path / "eval" / f"niah_single_1_{n}.jsonl").read_text().splitlines()]
        assert all(0.97 * n <= r["length"] <= n for r in rows)
