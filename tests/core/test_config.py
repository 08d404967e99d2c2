"""Config validation: typed, profiled, overridable, and strict about unknown keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from herd.core.config import load_config, parse_override
from herd.core.errors import ConfigError
from herd.core.hookspecs import hookimpl
from herd.core.plugins import load_plugins


@dataclass
class TrainSection:
    steps: int = 100
    lr: float = 1e-3
    sizes: list[int] = field(default_factory=lambda: [1, 2])
    name: str | None = None

    PROFILES: ClassVar[dict] = {"quick": {"steps": 3}, "full": {"steps": 1_200_000}}


@dataclass
class GopherConfig:
    max_dup_line_frac: float = 0.3


class Plugin:
    @hookimpl
    def herd_register_config_sections(self, register):
        register("train", TrainSection)

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


