"""``Services``: a component built in a real stage gets the stage's config, registry and
log, a generator for a model directory, an earlier stage's final model and a sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from herd.core.app import App
from herd.core.errors import ConfigError, PluginError
from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageContext, StageResult
from herd.core.protocols import ExecutionResult
from herd.core.rundir import RunDir
from herd.core.services import Services
from tests.fixtures.scripted_models import PathModel, ScriptedModels


class Box:
    def __init__(self):
        self.closed = False

    def run(self, files, command, timeout_s=None):
        return ExecutionResult(status="ok", exit_code=0, stdout=files["main.py"], stderr="", seconds=0.0)

    def run_many(self, programs):
        return [self.run(p.files, p.command) for p in programs]

    def close(self):
        self.closed = True


class Probe:
    """A judge that keeps the services it was built with."""

    def __init__(self, cfg, services: Services):
        self.services = services

    def score(self, rows):
        return [[] for _ in rows]


class Lab(ScriptedModels):
    """pretrain leaves a final model; probe (a plugin stage reading it) builds a judge."""

    def __init__(self):
        super().__init__()
        self.boxes: list[Box] = []
        self.seen: dict = {}

    @hookimpl
    def herd_register_sandboxes(self, register):
        def open_box(cfg) -> Box:
            self.boxes.append(Box())
            return self.boxes[-1]

        register("box", open_box, isolated=True, probe=lambda cfg: None)

    @hookimpl
    def herd_register_judges(self, register):
        register("probe", Probe, kind="verifier")

    @hookimpl
    def herd_register_stages(self, register):
        super().herd_register_stages(register)
        register("probe", self.probe, reads=("pretrain",))

    def probe(self, ctx: StageContext) -> StageResult:
        policy = PathModel("policy")
        judge = ctx.build("judges", "probe", Services(ctx, generator=policy, backend="scripted"))
        services = judge.services
        model = services.model_dir("pretrain")
        self.seen = {
            "ctx": ctx, "services": services, "model_dir": model, "mix": services.model_dir("mix"),
            "generator": services.generator, "for_model": services.generator_for(model),
            "again": services.generator_for(model),
        }
        with services.open_sandbox() as box:
            self.seen["ran"] = box.run({"main.py": "print(1)"}, ["python3", "main.py"]).stdout
            self.seen["open_inside"] = not box.closed
        held = Box()
        with Services(ctx, sandbox=held).open_sandbox() as box:
            self.seen["held"] = box is held
        self.seen["held_open"] = not held.closed
        return StageResult()


@pytest.fixture
def lab_run(empty_registry, tmp_path):
    lab = Lab()
    app = App.create(extra_plugins={"lab": lab}, registry_path=empty_registry, entry_points=False)
    outcomes = app.run_pipeline(RunDir(tmp_path / "run").create(), ["pretrain", "probe"])
    assert [o.status for o in outcomes] == ["ran", "ran"]
    return lab


def test_a_component_built_in_a_stage_gets_the_stage_config_registry_and_log(lab_run):
    ctx, services = lab_run.seen["ctx"], lab_run.seen["services"]
    assert services.config is ctx.config and services.registry is ctx.registry
    assert services.log is ctx.log and services.workdir == ctx.workdir
    assert services.registry.get("judges", "probe").plugin == "lab"


def test_model_dir_is_an_earlier_stage_final_model_when_the_run_has_it(lab_run, tmp_path):
    assert lab_run.seen["model_dir"] == tmp_path / "run" / "pretrain" / "final_model"
    assert lab_run.seen["mix"] is None  # not read by this stage


def test_generator_for_loads_the_backend_once_per_model_dir(lab_run, tmp_path):
    model = str(tmp_path / "run" / "pretrain" / "final_model")
    assert lab_run.loaded == [model]
    assert lab_run.seen["for_model"].path == model and lab_run.seen["again"] is lab_run.seen["for_model"]
    assert lab_run.seen["generator"].path == "policy"


def test_open_sandbox_opens_from_the_registry_and_closes_or_keeps_the_held_one(lab_run):
    assert lab_run.seen["ran"] == "print(1)" and lab_run.seen["open_inside"]
    assert len(lab_run.boxes) == 1 and lab_run.boxes[0].closed
    assert lab_run.seen["held"] and lab_run.seen["held_open"]


def test_sandbox_for_an_owner_stays_open_while_it_lives_and_keeps_a_held_one_open(empty_registry, tmp_path):
    import gc

    lab = Lab()
    app = App.create(extra_plugins={"lab": lab}, registry_path=empty_registry, entry_points=False)

    class Owner:
        pass

    owner = Owner()
    box = Services.for_app(app, workdir=tmp_path).sandbox_for(owner)
    assert box is lab.boxes[-1] and not box.closed
    del owner
    gc.collect()
    assert box.closed
    held, other = Box(), Owner()
    assert Services.for_app(app, workdir=tmp_path, sandbox=held).sandbox_for(other) is held
    del other
    gc.collect()
    assert not held.closed


def test_services_for_an_app_outside_a_stage(empty_registry, tmp_path):
    lab = Lab()
    app = App.create(extra_plugins={"lab": lab}, registry_path=empty_registry, entry_points=False)
    policy = PathModel("policy")
    services = Services.for_app(app, workdir=tmp_path, generator=policy, generator_dir=tmp_path / "m",
                                backend="scripted")
    assert services.config is app.config and services.registry is app.registry and services.log is app.log
    assert services.generator_for(tmp_path / "m") is policy  # the model in hand, not loaded again
    assert services.generator_for(tmp_path / "other").path == str(tmp_path / "other")
    assert lab.loaded == [str(tmp_path / "other")]
    assert services.model_dir("pretrain") is None


def test_a_component_that_needs_a_generator_and_gets_none_is_named(empty_registry, tmp_path):
    app = App.create(registry_path=empty_registry, entry_points=False)
    services = Services.for_app(app, workdir=tmp_path)
    with pytest.raises(ConfigError, match=r"judge 'probe' needs a generation backend \(it asks a model\)"):
        services.require_generator("judge 'probe'", "it asks a model")
    with pytest.raises(PluginError, match=r"no generator named 'local' \(available: none\)"):
        services.generator_for(tmp_path)


def test_services_have_no_pass_through_to_the_stage_context(lab_run):
    services = lab_run.seen["services"]
    for name in ("inputs_of", "build", "run_dir", "resuming", "plugins"):
        assert not hasattr(services, name)
    assert Path(services.inputs["pretrain"]).name == "pretrain"
