"""Plugin loading and its errors: each names the culprit."""

from __future__ import annotations

from pathlib import Path

import pytest

from herd.core.errors import PluginError
from herd.core.hookspecs import hookimpl
from herd.core.plugins import load_plugins


def write_registry(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


class FilterPlugin:
    @hookimpl
    def herd_register_filters(self, register):
        register("shout", lambda cfg: None, description="drops shouting")


def test_registration_records_the_plugin(empty_registry):
    loaded = load_plugins(registry_path=empty_registry, entry_points=False, extra_plugins={"loud": FilterPlugin()})
    component = loaded.registry.get("filters", "shout")
    assert component.plugin == "loud"
    assert component.description == "drops shouting"


def test_unknown_plugin_suggests_close_names(tmp_path):
    reg = write_registry(tmp_path / "r.toml", '[plugins.multilingual]\nmodule = "json"\n')
    with pytest.raises(PluginError, match=r"unknown plugin 'multilingal'.*did you mean 'multilingual'"):
        load_plugins(["multilingal"], registry_path=reg, entry_points=False)


def test_missing_dependency_names_package_and_extra(tmp_path):
    pkg = tmp_path / "needs_dep.py"
    pkg.write_text("import surely_not_installed_pkg\n")
    reg = write_registry(
        tmp_path / "r.toml",
        '[plugins.fancy]\nmodule = "needs_dep"\nextra = "fancy"\nalways = true\n',
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(PluginError, match=r"plugin 'fancy' needs the package 'surely_not_installed_pkg'.*herd\[fancy\]"):
            load_plugins(registry_path=reg, entry_points=False)
        loaded = load_plugins(registry_path=reg, entry_points=False, tolerant=True)
        assert "fancy" in loaded.failed
    finally:
        sys.path.remove(str(tmp_path))


def test_an_install_command_in_the_registry_replaces_the_pip_hint(tmp_path):
    (tmp_path / "needs_script.py").write_text("import surely_not_installed_pkg\n")
    reg = write_registry(
        tmp_path / "r.toml",
        '[plugins.heavy]\nmodule = "needs_script"\nextra = "heavy"\ninstall = "bash install_heavy.sh"\nalways = true\n',
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(PluginError, match=r"install it with: bash install_heavy.sh$"):
            load_plugins(registry_path=reg, entry_points=False)
    finally:
        sys.path.remove(str(tmp_path))


def test_missing_module_is_reported_as_such(tmp_path):
    reg = write_registry(tmp_path / "r.toml", '[plugins.ghost]\nmodule = "herd.plugins.no_such_plugin"\nalways = true\n')
    with pytest.raises(PluginError, match=r"plugin 'ghost': its module 'herd.plugins.no_such_plugin' does not exist"):
        load_plugins(registry_path=reg, entry_points=False)


def test_two_plugins_registering_one_name(empty_registry):
    with pytest.raises(PluginError, match=r"filter 'shout' is registered by both plugin 'a' and plugin 'b'"):
        load_plugins(registry_path=empty_registry, entry_points=False, extra_plugins={"a": FilterPlugin(), "b": FilterPlugin()})


class Misspelt:
    def herd_register_filtrs(self, register):  # no such hook
        register("x", lambda cfg: None)


def test_hook_matching_no_spec_is_an_error(empty_registry):
    with pytest.raises(PluginError, match=r"'misspelt'.*herd_register_filtrs"):
        load_plugins(registry_path=empty_registry, entry_points=False, extra_plugins={"misspelt": Misspelt()})


class NotCallable:
    @hookimpl
    def herd_register_dedupers(self, register):
        register("broken", "not a factory")


def test_invalid_registration_names_plugin(empty_registry):
    with pytest.raises(PluginError, match=r"plugin 'bad' registered deduper 'broken' with a factory that is not callable"):
        load_plugins(registry_path=empty_registry, entry_points=False, extra_plugins={"bad": NotCallable()})


class CoreCommand:
    @hookimpl
    def herd_register_commands(self, register):
        register("run", lambda p: None, lambda a, app: 0)


def test_plugin_cannot_replace_core_command(empty_registry):
    with pytest.raises(PluginError, match=r"'run', which is a core command"):
        load_plugins(registry_path=empty_registry, entry_points=False, extra_plugins={"cc": CoreCommand()})


def test_builtin_registry_entries_all_load():
    """Every plugin in the shipped registry.toml imports and registers cleanly."""
    from herd.core.plugins import read_builtin_registry

    names = list(read_builtin_registry())
    loaded = load_plugins(names, entry_points=False)
    assert set(loaded.active) == set(names)


def test_an_installed_third_party_plugin_registers_an_environment(hello_site, empty_registry, tmp_path, monkeypatch):
    """herd-plugin-hello, pip-installed: its environment passes validation and is built
    with typed services like a built-in one."""
    from herd.core.app import App
    from herd.core.protocols import Environment
    from herd.core.records import ChatMessage, SFTRow
    from herd.core.services import Services

    monkeypatch.syspath_prepend(str(hello_site))
    app = App.create(registry_path=empty_registry)
    component = app.registry.get("environments", "greet_back")
    assert component.plugin == "hello" and component.options == {"capability": "greeting"}
    environment = app.registry.get("environments", "greet_back").factory(
        app.config.component("environments", "greet_back"), Services.for_app(app, workdir=tmp_path))
    assert isinstance(environment, Environment)
    assert environment.applies(SFTRow("g", [ChatMessage("user", "hi")], capability="greeting"))
    assert environment.respond([ChatMessage("user", "hi"), ChatMessage("assistant", "Hello!")]) == [
        ChatMessage("ipython", "hello")]
    assert environment.respond([ChatMessage("assistant", "bye")]) is None
