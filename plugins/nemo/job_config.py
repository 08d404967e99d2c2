"""What a job carries: the stages it runs, which of them are still to do, and the part of
the config those stages read.

A job's config file holds ``[run]`` and the sections its stages declare
(``config_sections`` of their registrations; a family name such as ``trainers`` brings
all its components). Sections of plugins that only run locally (the sandbox, report,
evaluate, post-training...) stay out: the job loads their defaults and never uses them,
and a stage's cache key covers only its own sections, so the job's key equals the one the
same stage would have in a local run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from herd.core.components import Registry
from herd.core.config import Config, dump_toml
from herd.core.errors import ConfigError
from herd.core.pipeline import resolve_reads, stage_order
from herd.core.rundir import RunDir


def stage_sections(registry: Registry, stages: list[str]) -> list[str]:
    """``run`` and the config sections (or families) the named stages declare."""
    known = registry.components["stages"]
    sections = ["run"]
    for name in stages:
        if name not in known:
            raise ConfigError(f"the job runs stage '{name}', which no active plugin registers")
        sections += [s for s in known[name].options.get("config_sections", ()) if s not in sections]
    return sections


def job_config_toml(config: Config, registry: Registry, stages: list[str],
                    overrides: dict[str, dict[str, Any]] | None = None) -> str:
    """The TOML a job's ranks load: ``stage_sections`` of ``config``, with ``overrides``
    (section -> keys) applied on top (the curation job points Ray at its own cluster)."""
    full = config.to_dict()
    picked = {name: full[name] for name in stage_sections(registry, stages) if name in full}
    for section, values in (overrides or {}).items():
        picked.setdefault(section, {}).update(values)
    return dump_toml(picked)


def missing_inputs(registry: Registry, run_dir: Path, stage: str) -> list[str]:
    """The stages ``stage`` reads, directly or through others, that have no completed
    output in ``run_dir``, in pipeline order (read only: nothing is created)."""
    stages = registry.components["stages"]
    needed: set[str] = set()
    todo = [stage]
    while todo:
        impl = stages.get(todo.pop())
        if impl is None:
            continue
        for read in resolve_reads(impl.options.get("reads", ()), stages):
            if read not in needed:
                needed.add(read)
                todo.append(read)
    rundir = RunDir(Path(run_dir))
    return [s for s in stage_order(stages) if s in needed and rundir.manifest(s) is None]
