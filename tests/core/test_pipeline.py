"""The pipeline driver: skipping, caching, failure, resume and atomic hand-over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from herd.core.app import App
from herd.core.errors import StageError
from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageResult
from herd.core.rundir import RunDir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
from stage_plugins import Counting, Failing  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def make_app(empty_registry, *plugins, overrides=()):
    extra = {type(p).__name__.lower(): p for p in plugins}
    return App.create(extra_plugins=extra, overrides=list(overrides), registry_path=empty_registry, entry_points=False)


def test_unimplemented_stages_are_skipped_loudly(empty_registry, tmp_path, caplog):
    app = make_app(empty_registry, Counting())
    outcomes = app.run_pipeline(RunDir(tmp_path / "run").create())
    status = {o.stage: o.status for o in outcomes}
    assert status == {"curate": "ran", "mix": "ran", "pretrain": "skipped", "posttrain": "skipped",
                      "evaluate": "skipped", "report": "skipped"}
    assert "no active plugin implements it" in caplog.text
    manifest = json.loads((tmp_path / "run" / "mix" / "manifest.json").read_text())
    assert manifest["counts"] == {"items": 5}
    assert manifest["inputs"]["curate"] == json.loads((tmp_path / "run" / "curate" / "manifest.json").read_text())["output_hash"]
    assert "torch" in manifest["package_versions"] and "mixed.txt" in manifest["outputs"]
    assert (tmp_path / "run" / "config.toml").read_text().count("[count]") == 1


def test_unchanged_stages_are_not_rerun_and_changes_propagate(empty_registry, tmp_path):
    plugin = Counting()
    run_dir = RunDir(tmp_path / "run").create()
    make_app(empty_registry, plugin).run_pipeline(run_dir, ["curate", "mix"])
    outcomes = make_app(empty_registry, plugin).run_pipeline(run_dir, ["curate", "mix"])
    assert [o.status for o in outcomes] == ["cached", "cached"]
    assert plugin.calls == ["curate", "mix"]
    # A config change of curate's section re-runs curate, and mix because its input changed.
    outcomes = make_app(empty_registry, plugin, overrides=["count.word=bye"]).run_pipeline(run_dir, ["curate", "mix"])
    assert [o.status for o in outcomes] == ["ran", "ran"]
    assert (tmp_path / "run" / "mix" / "mixed.txt").read_text().startswith("bye 0")


def test_failing_stage_names_plugin_and_keeps_partial_for_resume(empty_registry, tmp_path, monkeypatch):
    run_dir = RunDir(tmp_path / "run").create()
    app = make_app(empty_registry, Counting(), Failing())
    with pytest.raises(StageError, match=r"stage 'pretrain' \(plugin 'failing'\) raised RuntimeError: the GPU caught fire.*--resume"):
        app.run_pipeline(run_dir, ["curate", "mix", "pretrain"])
    assert not (tmp_path / "run" / "pretrain").exists()
    assert (tmp_path / "run" / "pretrain.partial" / "half.bin").exists()
    assert run_dir.manifest("mix") is not None
    monkeypatch.setenv("HERD_TEST_FAIL", "0")
    outcomes = app.run_pipeline(run_dir, ["curate", "mix", "pretrain"], resume=True)
    assert [o.status for o in outcomes] == ["cached", "cached", "ran"]
    assert run_dir.manifest("pretrain")["resumed"] is True
    assert not (tmp_path / "run" / "pretrain.partial").exists()


def test_stage_reading_missing_input_is_skipped_with_reason(empty_registry, tmp_path):
    app = make_app(empty_registry, Failing())
    outcomes = app.run_pipeline(RunDir(tmp_path / "run").create(), ["pretrain"])
    assert outcomes[0].status == "skipped"
    assert "reads stage 'mix'" in outcomes[0].reason


def _run_counting(run_dir: Path, mode: str, registry: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(FIXTURES / "run_counting.py"), str(run_dir), mode, str(registry)],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_sigkill_mid_stage_then_resume_equals_uninterrupted_run(empty_registry, tmp_path):
    clean = tmp_path / "clean"
    proc = _run_counting(clean, "fresh", empty_registry, {})
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()

    killed = tmp_path / "killed"
    marker = tmp_path / "marker"
    proc = _run_counting(killed, "fresh", empty_registry, {"HERD_TEST_KILL_AT": "3", "HERD_TEST_MARKER": str(marker)})
    deadline = time.time() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Nothing of the killed stage is taken as complete.
    assert not (killed / "curate").exists()
    assert RunDir(killed).manifest("curate") is None
    assert len(list((killed / "curate.partial" / "items").glob("*.txt"))) == 3

    proc = _run_counting(killed, "resume", empty_registry, {})
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    a, b = RunDir(clean), RunDir(killed)
    for stage in ("curate", "mix"):
        assert a.manifest(stage)["output_hash"] == b.manifest(stage)["output_hash"]
    assert b.manifest("curate")["counts"]["resumed_from"] == 3


def test_full_disk_is_a_clear_message_and_resumable(empty_registry, tmp_path):
    from stage_plugins import DiskFull

    run_dir = RunDir(tmp_path / "run").create()
    with pytest.raises(StageError, match=r"stage 'curate' \(plugin 'diskfull'\): the disk is full.*--resume"):
        make_app(empty_registry, DiskFull()).run_pipeline(run_dir, ["curate"])
    assert (tmp_path / "run" / "curate.partial" / "part.txt").exists()
    assert run_dir.manifest("curate") is None


def _stage(name: str, reads=(), optional_reads=()):
    from herd.core.components import Component

    return Component("stages", name, "p", lambda ctx: None,
                     options={"reads": tuple(reads), "optional_reads": tuple(optional_reads)})


def test_plugin_added_stages_run_right_after_what_they_read():
    from herd.core.pipeline import stage_order

    stages = {n: _stage(n) for n in ("curate", "mix", "pretrain", "posttrain", "evaluate", "report")}
    stages["expert"] = _stage("expert", reads=("pretrain", "mix"))
    stages["expert_eval"] = _stage("expert_eval", reads=("expert",))
    order = stage_order(stages)
    assert order == ["curate", "mix", "pretrain", "expert", "expert_eval", "posttrain", "evaluate", "report"]


def test_a_stage_reading_an_unknown_stage_is_an_error_naming_it():
    from herd.core.errors import StageError
    from herd.core.pipeline import stage_order

    with pytest.raises(StageError, match="stage 'orphan'.*unknown stage\\(s\\) nowhere"):
        stage_order({"orphan": _stage("orphan", reads=("nowhere",))})


class Expert:
    """A third-party plugin whose stage declares that it provides an expert model."""

    @hookimpl
    def herd_register_stages(self, register):
        def run(ctx):
            (ctx.workdir / "final_model").mkdir()
            (ctx.workdir / "final_model" / "config.json").write_text("{}")
            return StageResult(counts={"experts": 1})

        register("maths_expert", run, reads=("curate",), provides=("expert_model",))


class Consumer:
    """A recipe stage that reads whichever stages provide an expert model, by declaration."""

    def __init__(self):
        self.inputs = None

    @hookimpl
    def herd_register_stages(self, register):
        def run(ctx):
            self.inputs = dict(ctx.inputs)
            return StageResult()

        register("posttrain", run, optional_reads=("provides:expert_model",))


def test_a_stage_reads_what_other_stages_provide_by_declaration(empty_registry, tmp_path):
    from herd.core.pipeline import stage_order

    consumer = Consumer()
    app = make_app(empty_registry, Counting(), Expert(), consumer)
    order = stage_order(app.registry.components["stages"])
    assert order.index("curate") < order.index("maths_expert") < order.index("posttrain")
    run_dir = RunDir(tmp_path / "run").create()
    status = {o.stage: o.status for o in app.run_pipeline(run_dir)}
    assert status["maths_expert"] == "ran" and status["posttrain"] == "ran"
    assert consumer.inputs == {"maths_expert": tmp_path / "run" / "maths_expert"}
    assert (consumer.inputs["maths_expert"] / "final_model" / "config.json").is_file()
    manifest = json.loads((tmp_path / "run" / "posttrain" / "manifest.json").read_text())
    assert list(manifest["inputs"]) == ["maths_expert"]  # the provider's output is in the cache key


def test_reading_what_no_stage_provides_reads_nothing(empty_registry, tmp_path):
    consumer = Consumer()
    app = make_app(empty_registry, Counting(), consumer)
    status = {o.stage: o.status for o in app.run_pipeline(RunDir(tmp_path / "run").create())}
    assert status["posttrain"] == "ran" and consumer.inputs == {}


def test_the_code_expert_provides_the_expert_model_posttrain_reads():
    from herd.core.pipeline import resolve_reads

    app = App.create(plugins=["code"], profile="quick")
    stages = app.registry.components["stages"]
    assert stages["code_expert"].options["provides"] == ("expert_model",)
    assert resolve_reads(stages["posttrain"].options["optional_reads"], stages) == ["pretrain", "code_expert"]
