"""Building a ``CurationRunner`` from a registry and a resolved config, the one way both
the ``curate`` stage and the ``curate`` command do it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from herd.core.components import Registry
from herd.core.config import Config
from herd.plugins.curation.config import CurateConfig
from herd.plugins.curation.executors import make_executor
from herd.plugins.curation.inputs import find_inputs
from herd.plugins.curation.runner import CurationRunner, RunSettings
from herd.plugins.curation.steps import resolve_steps


def settings_of(cfg: CurateConfig) -> RunSettings:
    return RunSettings(
        shard_size=cfg.shard_size,
        max_document_chars=cfg.max_document_chars,
        max_records_per_input=cfg.max_records_per_input,
        dropped_text_chars=cfg.dropped_text_chars,
        on_step_error=cfg.on_step_error,
        keep_html=cfg.keep_html,
        output_format=cfg.output_format,
        extract_time_budget_s=cfg.extract_time_budget_s,
    )


def build_runner(
    registry: Registry,
    config: Config,
    cfg: CurateConfig,
    workdir: Path,
    *,
    log: logging.Logger | None = None,
    resuming: bool = False,
) -> CurationRunner:
    """``cfg`` is the ``[curate]`` section (possibly changed by command-line options)."""
    settings = settings_of(cfg)
    inputs = find_inputs(list(cfg.inputs), registry, config.component, cfg.unread_files)
    steps = resolve_steps(list(cfg.steps), registry, config.component, cfg.plugin_default_steps)
    executor: Any = make_executor(cfg.executor, cfg.workers, cfg.ray_address, log)
    return CurationRunner(
        inputs.files,
        steps,
        settings,
        workdir,
        executor,
        log=log,
        resuming=resuming,
        progress=None if cfg.progress else False,
        unread=inputs.unread,
    )
