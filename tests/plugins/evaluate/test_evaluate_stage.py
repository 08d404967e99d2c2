"""The evaluate stage: each evaluator gets typed services whose generator is the final
model, loaded once for all of them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from herd.core.app import App
from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageContext, StageResult
from herd.core.protocols import SamplingParams
from herd.core.rundir import RunDir
from herd.core.services import Services


@dataclass
class ModelConfig:
    model_path: str = ""


class Model:
    def __init__(self, path: str):
        self.path = path

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        return [[self.path] * params.n for _ in prompts]


class Asks:
    """An evaluator that asks for a generator of the model it evaluates."""

    def __init__(self, cfg, services: Services):
        self.services = services

    def evaluate(self, model_dir, workdir):
        generator = self.services.generator_for(model_dir)
        same = generator is self.services.generator
        return {"same_model": float(same), "answers": float(len(generator.generate(["q"], SamplingParams(n=2))[0]))}


class Lab:
    def __init__(self):
        self.loaded: list[str] = []

    @hookimpl
    def herd_register_generators(self, register):
        def load(cfg: ModelConfig) -> Model:
            self.loaded.append(cfg.model_path)
            return Model(cfg.model_path)

        register("scripted", load, config=ModelConfig)

    @hookimpl
    def herd_register_evaluators(self, register):
        register("asks", Asks, capability="general")
        register("asks_too", Asks, capability="general")

    @hookimpl
    def herd_register_stages(self, register):
        register("pretrain", self.pretrain)

    def pretrain(self, ctx: StageContext) -> StageResult:
        (ctx.workdir / "final_model").mkdir()
        (ctx.workdir / "final_model" / "config.json").write_text("{}")
        return StageResult()


def test_evaluators_share_the_final_model_through_their_services(tmp_path):
    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins.evaluate]\nmodule = "herd.plugins.evaluate"\nalways = true\n')
    lab = Lab()
    app = App.create(extra_plugins={"lab": lab}, registry_path=registry, entry_points=False,
                     overrides=['evaluate.generator="scripted"'])
    outcomes = app.run_pipeline(RunDir(tmp_path / "run").create(), ["pretrain", "evaluate"])
    assert [o.status for o in outcomes] == ["ran", "ran"]
    final = str(tmp_path / "run" / "pretrain" / "final_model")
    assert lab.loaded == [final]  # once, for both evaluators
    metrics = json.loads((tmp_path / "run" / "evaluate" / "metrics.json").read_text())
    assert metrics["model"] == final
    assert metrics["results"] == {name: {"same_model": 1.0, "answers": 2.0} for name in ("asks", "asks_too")}
