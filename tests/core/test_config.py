"""Config validation: typed, profiled, overridable, strict about unknown keys, and every
value in its declared range before any stage runs (issue 16 item 8)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from herd.core.config import fraction, load_config, non_negative, one_of, parse_override, positive, ranged
from herd.core.errors import ConfigError
from herd.core.hookspecs import hookimpl
from herd.core.plugins import load_plugins, read_builtin_registry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import run_cli  # noqa: E402


@dataclass
class TrainSection:
    steps: int = 100
    lr: float = 1e-3
    sizes: list[int] = field(default_factory=lambda: [1, 2])
    name: str | None = None

    PROFILES: ClassVar[dict] = {"quick": {"steps": 3}, "full": {"steps": 1_200_000}}


@dataclass
class SearchSection:
    nodes: int = 24
    seconds: float = 10.0


@dataclass
class SynthSection:
    prompts: int = 16
    search: SearchSection = field(default_factory=SearchSection)
    weights: dict[str, float] = field(default_factory=dict)

    PROFILES: ClassVar[dict] = {"quick": {"prompts": 2, "search": {"nodes": 4, "seconds": 1.0},
                                          "weights": {"a": 1.0, "b": 2.0}}}


@dataclass
class GopherConfig:
    max_dup_line_frac: float = 0.3


class Plugin:
    @hookimpl
    def herd_register_config_sections(self, register):
        register("train", TrainSection)
        register("synth", SynthSection)

    @hookimpl
    def herd_register_filters(self, register):
        register("gopher", lambda cfg: cfg, config=GopherConfig)


@pytest.fixture
def registry(empty_registry):
    return load_plugins(registry_path=empty_registry, entry_points=False, extra_plugins={"p": Plugin()}).registry


def test_defaults_profiles_file_and_overrides_in_order(registry, tmp_path):
    assert load_config(registry).section("train").steps == 100
    assert load_config(registry, profile="quick").section("train").steps == 3
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text('[run]\nprofile = "quick"\n[train]\nlr = 1\n[filters.gopher]\nmax_dup_line_frac = 0.2\n')
    cfg = load_config(registry, file=cfg_file, overrides=["train.steps=7", "run.name=exp1"])
    train = cfg.section("train")
    assert (train.steps, train.lr, cfg.profile, cfg.run.name) == (7, 1.0, "quick", "exp1")
    assert isinstance(train.lr, float)
    assert cfg.component("filters", "gopher").max_dup_line_frac == 0.2


def test_setting_one_key_of_a_nested_section_keeps_the_profile_values_of_the_others(registry):
    quick = load_config(registry, profile="quick", overrides=["synth.search.nodes=8"]).section("synth")
    assert (quick.prompts, quick.search.nodes, quick.search.seconds) == (2, 8, 1.0)
    # a free-form table (a dict field) is a value: the one given replaces the profile's
    assert load_config(registry, profile="quick", overrides=["synth.weights.a=3.0"]).section("synth").weights == {"a": 3.0}
    assert load_config(registry, overrides=["synth.search.nodes=8"]).section("synth").search.seconds == 10.0


def test_unknown_key_names_path_and_suggests(registry):
    with pytest.raises(ConfigError, match=r"unknown config key 'train.stpes'.*did you mean 'train.steps'"):
        load_config(registry, overrides=["train.stpes=3"])


def test_unknown_section_suggests(registry):
    with pytest.raises(ConfigError, match=r"unknown config key 'trian'.*did you mean 'train'"):
        load_config(registry, overrides=["trian.steps=3"])


def test_wrong_type_names_key(registry):
    with pytest.raises(ConfigError, match=r"'train.steps' must be an integer, got 'many'"):
        load_config(registry, overrides=["train.steps=many"])
    with pytest.raises(ConfigError, match=r"'train.sizes\[1\]' must be an integer"):
        load_config(registry, overrides=['train.sizes=[1, "x"]'])


def test_unknown_component_config(registry):
    with pytest.raises(ConfigError, match=r"unknown config key 'filters.gophr'.*'filters.gopher'"):
        load_config(registry, overrides=["filters.gophr.max_dup_line_frac=0.1"])


def test_unknown_profile(registry):
    with pytest.raises(ConfigError, match=r"unknown profile 'fast'"):
        load_config(registry, profile="fast")


def test_malformed_file_names_the_file(registry, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nsteps = 1\n")
    with pytest.raises(ConfigError, match=r"bad.toml is not valid TOML"):
        load_config(registry, file=bad)
    with pytest.raises(ConfigError, match=r"does not exist"):
        load_config(registry, file=tmp_path / "missing.toml")


def test_resolved_config_round_trips_through_toml(registry, tmp_path):
    cfg = load_config(registry, profile="quick", overrides=["train.name=abc"])
    path = tmp_path / "resolved.toml"
    path.write_text(cfg.to_toml())
    again = load_config(registry, file=path)
    assert again.to_dict() == cfg.to_dict()


def test_override_values_parse_as_toml_literals():
    assert parse_override("a.b=3") == (["a", "b"], 3)
    assert parse_override("a.b=[1,2]") == (["a", "b"], [1, 2])
    assert parse_override("a.b=hello world") == (["a", "b"], "hello world")
    with pytest.raises(ConfigError):
        parse_override("nodot=1")




# ----- ranges, choices and a section's own validator --------------------------------------


@dataclass
class Limits:
    timeout_s: float = positive(10.0)
    keep: float = fraction(0.5)


@dataclass
class BoundedSection:
    workers: int = non_negative(0)
    lrs: list[float] = positive(default_factory=lambda: [1e-3])
    beta: float = ranged(0.9, min=0, max=1, exclusive_max=True)
    mode: str = one_of("local", ("local", "ray"))
    limits: Limits = field(default_factory=Limits)
    names: list[str] = field(default_factory=list)

    def validate(self, config, registry) -> list[str]:
        known = sorted(registry.components["filters"])
        return [f"'bounded.names' = {n!r} is not a registered filter (known: {', '.join(known)})"
                for n in self.names if n not in known]


class BoundedPlugin:
    @hookimpl
    def herd_register_config_sections(self, register):
        register("bounded", BoundedSection)

    @hookimpl
    def herd_register_filters(self, register):
        register("gopher", lambda cfg: cfg, config=GopherConfig)


@pytest.fixture
def bounded(empty_registry):
    return load_plugins(registry_path=empty_registry, entry_points=False, extra_plugins={"b": BoundedPlugin()}).registry


def test_values_in_range_load(bounded):
    cfg = load_config(bounded, overrides=["bounded.workers=0", "bounded.beta=0", "bounded.limits.keep=1"])
    assert (cfg.section("bounded").workers, cfg.section("bounded").limits.keep) == (0, 1.0)


@pytest.mark.parametrize("override, message", [
    ("bounded.limits.timeout_s=-5", r"'bounded.limits.timeout_s' = -5.0 is out of range: it must be > 0"),
    ("bounded.limits.timeout_s=0", r"'bounded.limits.timeout_s' = 0.0 is out of range: it must be > 0"),
    ("bounded.workers=-1", r"'bounded.workers' = -1 is out of range: it must be >= 0"),
    ("bounded.limits.keep=1.5", r"'bounded.limits.keep' = 1.5 is out of range: it must be >= 0 and <= 1"),
    ("bounded.beta=1", r"'bounded.beta' = 1.0 is out of range: it must be >= 0 and < 1"),
    ("bounded.lrs=[0.1, -0.1]", r"'bounded.lrs\[1\]' = -0.1 is out of range"),
    ("bounded.limits.timeout_s=nan", r"'bounded.limits.timeout_s' = nan is not a number"),
    ("bounded.mode=rey", r"'bounded.mode' = 'rey' is not one of local, ray; did you mean 'ray'\?"),
])
def test_out_of_range_names_key_value_and_range(bounded, override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(bounded, overrides=[override])


def test_every_problem_is_reported_at_once(bounded):
    with pytest.raises(ConfigError) as caught:
        load_config(bounded, overrides=["bounded.workers=-1", "bounded.beta=2"])
    assert "2 invalid config value(s)" in str(caught.value)
    assert "'bounded.workers'" in str(caught.value) and "'bounded.beta'" in str(caught.value)


def test_section_validator_gets_config_and_registry(bounded):
    assert load_config(bounded, overrides=['bounded.names=["gopher"]']).section("bounded").names == ["gopher"]
    with pytest.raises(ConfigError, match=r"'bounded.names' = 'gophr' is not a registered filter \(known: gopher\)"):
        load_config(bounded, overrides=['bounded.names=["gophr"]'])


@pytest.mark.parametrize("profile", ["quick", "default", "full"])
def test_builtin_profiles_are_in_range(profile):
    """Every built-in plugin's declared ranges admit its own profiles' values."""
    loaded = load_plugins(list(read_builtin_registry()), tolerant=True)
    cfg = load_config(loaded.registry, profile=profile)
    assert cfg.profile == profile


# ----- the CLI refuses before any stage runs (exit code 2) ---------------------------------


def test_cli_refuses_an_out_of_range_value(tmp_path):
    result = run_cli("run", "--profile", "quick", "--run-dir", str(tmp_path / "r"), "--set", "sandbox.timeout_s=-5")
    assert result.returncode == 2, result.stderr
    assert "'sandbox.timeout_s' = -5.0 is out of range: it must be > 0" in result.stderr
    assert not (tmp_path / "r").exists()


def test_cli_refuses_an_unknown_stage_naming_the_closest(tmp_path):
    result = run_cli("run", "--profile", "quick", "--run-dir", str(tmp_path / "r"), "--stages", "curate,pretrian")
    assert result.returncode == 2, result.stderr
    assert "unknown stage(s) 'pretrian' (did you mean 'pretrain'?)" in result.stderr
    unknown = run_cli("run", "--profile", "quick", "--run-dir", str(tmp_path / "r"), "--stages", "curate,nosuchstage")
    assert unknown.returncode == 2 and "'nosuchstage'" in unknown.stderr
    assert not (tmp_path / "r").exists()


def test_cli_refuses_an_unknown_curation_step_before_curate_starts(tmp_path):
    result = run_cli("run", "--profile", "quick", "--run-dir", str(tmp_path / "r"), "--set", 'curate.steps=["lenght"]')
    assert result.returncode == 2, result.stderr
    assert "curate.steps[0] = 'lenght'" in result.stderr and "did you mean 'length'" in result.stderr
    assert not (tmp_path / "r" / "curate.partial").exists()
