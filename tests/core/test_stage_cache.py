"""The stage cache key covers the code that decides a stage's output (the implementing
plugin's package, the plugins feeding the families the stage configures, herd's core and
lib) and no unrelated plugin; installed plugins can be disabled. Real plugin packages are
written to a temporary folder and loaded through a registry file, as built-ins are."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from herd.core.app import App
from herd.core.errors import PluginError
from herd.core.rundir import RunDir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import run_cli  # noqa: E402

HELLO = Path(__file__).resolve().parent.parent / "fixtures" / "herd_plugin_hello" / "herd_hello.py"

# A plugin package: the stage is in __init__.py, the text it writes comes from a second
# module of the package, so editing that module is editing the plugin's code.
STAGE_PACKAGE = {
    "__init__.py": '''
from dataclasses import dataclass

from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageResult

from cache_stage.words import GREETING


@dataclass
class DemoConfig:
    times: int = 2


@hookimpl
def herd_register_config_sections(register):
    register("demo", DemoConfig)


def curate(ctx):
    times = ctx.config.section("demo").times
    (ctx.workdir / "out.txt").write_text(GREETING * times)
    return StageResult(counts={"times": times})


@hookimpl
def herd_register_stages(register):
    register("curate", curate, description="writes a greeting", config_sections=("demo", "filters"))
''',
    "words.py": 'GREETING = "hello "\n',
}

# An unrelated plugin: a stage of its own and a config section, nothing curate uses.
OTHER_PLUGIN = '''
from dataclasses import dataclass

from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageResult


@dataclass
class OtherConfig:
    size: int = 1


@hookimpl
def herd_register_config_sections(register):
    register("other", OtherConfig)


@hookimpl
def herd_register_stages(register):
    register("other_stage", lambda ctx: StageResult(), description="unrelated", config_sections=("other",))
'''


@pytest.fixture
def plugins_dir(tmp_path, monkeypatch):
    """A folder on sys.path with the stage package, and a registry writer; the imported
    modules are forgotten afterwards so that each test imports its own copy."""
    root = tmp_path / "site"
    package = root / "cache_stage"
    package.mkdir(parents=True)
    for name, text in STAGE_PACKAGE.items():
        (package / name).write_text(text)
    (root / "cache_other.py").write_text(OTHER_PLUGIN)
    shutil.copy(HELLO, root / "herd_hello.py")
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [m for m in sys.modules if m.split(".")[0] in ("cache_stage", "cache_other", "herd_hello")]:
        del sys.modules[name]


def registry(tmp_path: Path, *plugins: str) -> Path:
    modules = {"stage": "cache_stage", "other": "cache_other", "hello": "herd_hello"}
    path = tmp_path / f"registry-{'-'.join(plugins)}.toml"
    path.write_text("".join(f'[plugins.{p}]\nmodule = "{modules[p]}"\nalways = true\n\n' for p in plugins))
    return path


def run(tmp_path: Path, *plugins: str, **options) -> str:
    app = App.create(registry_path=registry(tmp_path, *plugins), entry_points=False, **options)
    [outcome] = app.run_pipeline(RunDir(tmp_path / "run").create(), ["curate"])
    return outcome.status


def forget_modules() -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == "cache_stage"]:
        del sys.modules[name]


def test_editing_the_plugins_code_reruns_its_stage(plugins_dir, tmp_path):
    assert run(tmp_path, "stage") == "ran"
    assert run(tmp_path, "stage") == "cached"
    (plugins_dir / "cache_stage" / "words.py").write_text('GREETING = "bonjour "\n')
    forget_modules()  # a new process would import the edited code
    assert run(tmp_path, "stage") == "ran"
    assert (tmp_path / "run" / "curate" / "out.txt").read_text() == "bonjour bonjour "
    assert run(tmp_path, "stage") == "cached"


def test_an_unrelated_plugin_keeps_the_stage_cached(plugins_dir, tmp_path):
    assert run(tmp_path, "stage") == "ran"
    assert run(tmp_path, "stage", "other") == "cached"
    (plugins_dir / "cache_other.py").write_text(OTHER_PLUGIN + "\n# edited\n")
    assert run(tmp_path, "stage", "other") == "cached"


def test_a_plugin_feeding_a_family_the_stage_configures_counts_as_its_code(plugins_dir, tmp_path):
    """curate configures ``filters``: a filter plugin's arrival or edit re-runs it."""
    assert run(tmp_path, "stage") == "ran"
    assert run(tmp_path, "stage", "hello") == "ran"
    assert run(tmp_path, "stage", "hello") == "cached"
    (plugins_dir / "herd_hello.py").write_text(HELLO.read_text() + "\n# edited\n")
    assert run(tmp_path, "stage", "hello") == "ran"
    manifest = RunDir(tmp_path / "run").manifest("curate")
    assert manifest["code_plugins"] == ["hello", "stage"]


def test_disabled_plugins_do_not_load(plugins_dir, tmp_path):
    path = registry(tmp_path, "stage", "other", "hello")
    app = App.create(registry_path=path, entry_points=False, disabled_plugins=["hello"])
    assert app.plugins.active == ["stage", "other"] and app.config.run.disable_plugins == ["hello"]
    app = App.create(registry_path=path, entry_points=False, overrides=['run.disable_plugins=["other", "hello"]'])
    assert app.plugins.active == ["stage"]
    config = tmp_path / "run.toml"
    config.write_text('[run]\ndisable_plugins = ["other"]\n')
    app = App.create(registry_path=path, entry_points=False, config_file=config)
    assert app.plugins.active == ["stage", "hello"] and "other_stage" not in app.registry.names("stages")
    with pytest.raises(PluginError, match="cannot disable unknown plugin 'helo'.*did you mean 'hello'"):
        App.create(registry_path=path, entry_points=False, disabled_plugins=["helo"])
    with pytest.raises(PluginError, match="plugin 'other' is both activated .* and disabled"):
        App.create(registry_path=path, entry_points=False, plugins=["other"], disabled_plugins=["other"])


def test_disable_plugin_on_the_command_line(plugins_dir, tmp_path):
    path = registry(tmp_path, "stage", "hello")
    env = {"HERD_REGISTRY": str(path), "PYTHONPATH": os.pathsep.join([str(plugins_dir), os.environ.get("PYTHONPATH", "")])}
    run_dir = tmp_path / "cli-run"
    (tmp_path / "empty.toml").write_text("")
    result = run_cli("run", "--run-dir", str(run_dir), "--stages", "curate", "--disable-plugin", "hello",
                     "--config", str(tmp_path / "empty.toml"), env=env)
    assert result.returncode == 0, result.stderr
    assert RunDir(run_dir).manifest("curate")["code_plugins"] == ["stage"]
    assert 'disable_plugins = ["hello"]' in (run_dir / "config.toml").read_text()
