"""The evaluate stage: each evaluator gets typed services whose generator is the final
model, loaded once for all of them."""

from __future__ import annotations

import json
from herd.core.app import App
from herd.core.hookspecs import hookimpl
from herd.core.protocols import SamplingParams
from herd.core.rundir import RunDir
from herd.core.services import Services
from tests.fixtures.scripted_models import ScriptedModels


class Asks:
    """An evaluator that asks for a generator of the model it evaluates."""

    def __init__(self, cfg, services: Services):
        self.services = services

    def evaluate(self, model_dir, workdir):
        generator = self.services.generator_for(model_dir)
        same = generator is self.services.generator
        return {"same_model": float(same), "answers": float(len(generator.generate(["q"], SamplingParams(n=2))[0]))}


class Lab(ScriptedModels):
    @hookimpl
    def herd_register_evaluators(self, register):
        register("asks", Asks, capability="general")
        register("asks_too", Asks, capability="general")


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
