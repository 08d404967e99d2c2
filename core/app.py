"""One object that holds what a command needs: the active plugins, their registry and the
resolved config. The CLI builds it; programs embedding herd can too."""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from herd.core.components import Registry
from herd.core.config import Config, load_config
from herd.core.errors import ConfigError
from herd.core.log import LOGGER_NAME
from herd.core.pipeline import Pipeline, StageOutcome, stage_order
from herd.core.plugins import REGISTRY_PATH, LoadedPlugins, load_plugins
from herd.core.rundir import RunDir
from herd.core import atomic


@dataclass
class App:
    plugins: LoadedPlugins
    config: Config
    log: logging.Logger

    @property
    def registry(self) -> Registry:
        return self.plugins.registry

    @classmethod
    def create(
        cls,
        *,
        plugins: Sequence[str] = (),
        profile: str | None = None,
        config_file: Path | None = None,
        overrides: Sequence[str] = (),
        extra_plugins: dict[str, Any] | None = None,
        log: logging.Logger | None = None,
        registry_path: Path | None = None,
        entry_points: bool = True,
        disabled_plugins: Sequence[str] = (),
    ) -> "App":
        """Load plugins named on the command line *and* in the config's ``run.plugins``, less
        those ``disabled_plugins`` and the config's ``run.disable_plugins`` name."""
        from herd.core.config import parse_override, read_toml

        raw_run = (read_toml(config_file).get("run", {}) if config_file else {}) or {}
        for text in overrides:
            keys, value = parse_override(text)
            if keys[0] == "run" and keys[1:] in (["plugins"], ["disable_plugins"]) and isinstance(value, list):
                raw_run[keys[1]] = value
        requested = _merged(plugins, raw_run.get("plugins"))
        disabled = _merged(disabled_plugins, raw_run.get("disable_plugins"))
        loaded = load_plugins(
            requested,
            extra_plugins=extra_plugins,
            registry_path=registry_path or REGISTRY_PATH,
            entry_points=entry_points,
            disabled=disabled,
        )
        config = load_config(
            loaded.registry,
            profile=profile,
            file=config_file,
            overrides=list(overrides) + [f"run.plugins={_toml_list(requested)}",
                                         f"run.disable_plugins={_toml_list(disabled)}"],
        )
        return cls(plugins=loaded, config=config, log=log or logging.getLogger(LOGGER_NAME))

    def run_dir(self, override: Path | None = None) -> RunDir:
        root = override or Path(self.config.run.runs_dir) / self.config.run.name
        return RunDir(root).create()

    def resolve_stages(self, stages: Sequence[str] | None = None) -> list[str] | None:
        """The stages to run (``stages``, else ``run.stages``; None: all), each checked
        against the stage graph before anything runs: an unknown name is a ``ConfigError``
        naming the closest stage."""
        wanted = list(stages) if stages else list(self.config.run.stages)
        if not wanted:
            return None
        known = stage_order(self.registry.components["stages"])
        where = "--stages" if stages else "run.stages"
        problems = []
        for name in wanted:
            if name not in known:
                hint = difflib.get_close_matches(name, known, n=1, cutoff=0.4)
                problems.append(f"'{name}'" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
        if problems:
            raise ConfigError(f"{where}: unknown stage(s) {', '.join(problems)}; the stages are {', '.join(known)}")
        return wanted

    def run_pipeline(
        self, run_dir: RunDir, stages: Sequence[str] | None = None, resume: bool = False
    ) -> list[StageOutcome]:
        wanted = self.resolve_stages(stages)
        atomic.write_text(run_dir.config_path, self.config.to_toml())
        pipeline = Pipeline(
            self.registry, self.config, run_dir, self.plugins.versions(), self.log, self.plugins.sources()
        )
        return pipeline.run(wanted, resume)


def _merged(names: Sequence[str], configured: Any) -> list[str]:
    """``names`` then the configured list's names not among them (a non-list is left to the
    config's own type check)."""
    out = list(names)
    for name in configured if isinstance(configured, list) else []:
        if name not in out:
            out.append(name)
    return out


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"
