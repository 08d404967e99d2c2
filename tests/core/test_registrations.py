"""Every registration is checked against its family's row of ``core/families.py`` when the
plugins load: options, their values and the factory's signature, with errors naming the
plugin, the family and the option."""

from __future__ import annotations

import pytest

from herd.core.errors import PluginError
from herd.core.families import FAMILY_SPECS, JUDGE_KINDS
from herd.core.hookspecs import hookimpl
from herd.core.plugins import load_plugins


def load(empty_registry, **plugins):
    return load_plugins(registry_path=empty_registry, entry_points=False, extra_plugins=plugins)


class Judging:
    """A judge plugin whose registration a test sets."""

    def __init__(self, factory=lambda cfg, services: None, **options):
        self.factory, self.options = factory, options

    @hookimpl
    def herd_register_judges(self, register):
        register("fair", self.factory, **self.options)


def test_a_valid_judge_registration_keeps_its_options(empty_registry):
    loaded = load(empty_registry, judging=Judging(kind="verifier"))
    assert loaded.registry.get("judges", "fair").options == {"kind": "verifier"}


def test_a_misspelt_option_names_plugin_family_option_and_the_closest_valid_one(empty_registry):
    with pytest.raises(PluginError) as error:
        load(empty_registry, judging=Judging(knd="verifier"))
    message = str(error.value)
    assert "plugin 'judging' registered judge 'fair' with unknown option 'knd'" in message
    assert "did you mean 'kind'?" in message and "judges accept" in message


def test_a_misspelt_description_is_not_taken_for_an_option(empty_registry):
    with pytest.raises(PluginError, match=r"unknown option 'descripton'; did you mean 'description'\?"):
        load(empty_registry, judging=Judging(kind="rule", descripton="typo"))


def test_an_unknown_judge_kind_lists_the_kinds(empty_registry):
    with pytest.raises(PluginError) as error:
        load(empty_registry, judging=Judging(kind="vibes"))
    message = str(error.value)
    assert "plugin 'judging' registered judge 'fair' with kind='vibes'" in message
    assert all(repr(kind) in message for kind in JUDGE_KINDS)


def test_a_judge_factory_without_services_fails_at_load_time(empty_registry):
    def judge_of_config_only(cfg):
        return None

    with pytest.raises(PluginError) as error:
        load(empty_registry, judging=Judging(judge_of_config_only, kind="quality"))
    message = str(error.value)
    assert "plugin 'judging' registered judge 'fair'" in message and "judge_of_config_only(cfg)" in message
    assert "judges are built as factory(config, services)" in message


def test_a_class_factory_is_checked_through_its_constructor(empty_registry):
    class NeedsThree:
        def __init__(self, cfg, services, extra):
            pass

    class Optional:
        def __init__(self, cfg=None, services=None, name="fair"):
            pass

    with pytest.raises(PluginError, match=r"NeedsThree\(cfg, services, extra\), which cannot be called with \(config, services\)"):
        load(empty_registry, judging=Judging(NeedsThree, kind="topic"))
    assert load(empty_registry, judging=Judging(Optional, kind="topic")).registry.get("judges", "fair").factory is Optional


class Staging:
    def __init__(self, run, **options):
        self.run, self.options = run, options

    @hookimpl
    def herd_register_stages(self, register):
        register("probe", self.run, **self.options)


def test_stage_options_and_run_signature(empty_registry):
    with pytest.raises(PluginError, match=r"stage 'probe' with reads='pretrain'; reads must be a tuple of names"):
        load(empty_registry, staging=Staging(lambda ctx: None, reads="pretrain"))
    with pytest.raises(PluginError, match=r"unknown option 'read'; did you mean 'reads'\?"):
        load(empty_registry, staging=Staging(lambda ctx: None, read=("pretrain",)))
    with pytest.raises(PluginError, match=r"stages are built as factory\(context\)"):
        load(empty_registry, staging=Staging(lambda ctx, extra: None))
    loaded = load(empty_registry, staging=Staging(lambda ctx: None, reads=("pretrain",), config_sections=()))
    assert loaded.registry.get("stages", "probe").options["reads"] == ("pretrain",)


class Commanding:
    def __init__(self, run):
        self.run = run

    @hookimpl
    def herd_register_commands(self, register):
        register("hello", lambda parser: None, self.run, help="says hello")


def test_a_command_run_must_take_args_and_app(empty_registry):
    with pytest.raises(PluginError, match=r"command 'hello'.*a command runs as run\(args, app\)"):
        load(empty_registry, commanding=Commanding(lambda args: 0))
    assert load(empty_registry, commanding=Commanding(lambda args, app: 0)).registry.names("commands") == ["hello"]


class Sandboxing:
    @hookimpl
    def herd_register_sandboxes(self, register):
        register("leaky", lambda cfg: None, isolated="yes")


def test_option_values_are_checked_for_every_family(empty_registry):
    with pytest.raises(PluginError, match=r"plugin 'sandboxing' registered sandbox 'leaky' with isolated='yes'; "
                                          r"isolated must be True or False"):
        load(empty_registry, sandboxing=Sandboxing())


def test_a_family_without_options_says_so(empty_registry):
    class Mixing:
        @hookimpl
        def herd_register_mixers(self, register):
            register("even", lambda cfg: None, ratio=0.5)

    with pytest.raises(PluginError, match=r"mixer 'even' with unknown option 'ratio'.*mixers accept description, config"):
        load(empty_registry, mixing=Mixing())


def test_every_family_has_a_row_and_a_hook():
    from herd.core import hookspecs

    hooks = {name.removeprefix("herd_register_") for name in dir(hookspecs) if name.startswith("herd_register_")}
    assert set(FAMILY_SPECS) == hooks - {"config_sections"}


def test_the_registry_file_refuses_keys_it_does_not_know(tmp_path):
    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins.old]\nmodule = "json"\nprovides = ["filters: x"]\n')
    with pytest.raises(PluginError, match=r"plugin 'old' has unknown key\(s\) provides.*`herd plugins`"):
        load_plugins(registry_path=registry, entry_points=False)
