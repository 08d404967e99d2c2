"""What ``herd inspect`` reads: a run directory (or one stage folder of it) as typed
``StageView``s in the order the pipeline ran them.

Only the pipeline's own files are read (``manifest.json``, ``<stage>.partial/``), never a
plugin's, so the view works for any stage any plugin adds.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from herd.core.errors import HerdError
from herd.core.rundir import ATTEMPT, MANIFEST, RunDir

PARTIAL = ".partial"
RUN_DIR_SHAPE = ("a run directory (runs/<name>/, what `herd run --run-dir` writes) holds config.toml, log.txt "
                 "and one folder per completed stage with a manifest.json (curate/manifest.json...)")


class NotARunError(HerdError):
    """``inspect`` was given a path that is neither a run directory nor a stage folder of one."""

    exit_code = 2  # a usage error, as argparse's


@dataclass
class StageView:
    """One stage of a run: ``status`` is ``"complete"`` or ``"interrupted"``. ``values`` holds
    the manifest's counts then metrics, in the order the stage reported them."""

    name: str
    status: str
    plugin: str = ""
    seconds: float | None = None
    started: str = ""
    values: dict[str, float | int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunView:
    root: Path
    stages: list[StageView]
    profile: str = ""


def read_run(path: Path) -> RunView:
    """The run at ``path``, or only the stage when ``path`` is a stage folder of a run
    (``runs/x/curate``); ``NotARunError`` names the path otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise NotARunError(f"{path} is not a run directory (it {'is a file' if path.exists() else 'does not exist'}); "
                           f"{RUN_DIR_SHAPE}")
    if (path / MANIFEST).is_file() or (path / ATTEMPT).is_file():
        return _single_stage(path)
    stages = _stages(RunDir(path))
    if not stages and not (path / "config.toml").is_file() and not (path / "log.txt").is_file():
        raise NotARunError(f"{path} is not a run directory: it has no stage folders, config.toml or log.txt; "
                           f"{RUN_DIR_SHAPE}")
    return RunView(path, stages, _profile(stages))


def _single_stage(folder: Path) -> RunView:
    name = folder.name[: -len(PARTIAL)] if folder.name.endswith(PARTIAL) else folder.name
    stage = _stage(RunDir(folder.parent), name)
    if stage is None:
        raise NotARunError(f"{folder} has no readable {MANIFEST}; {RUN_DIR_SHAPE}")
    return RunView(folder.parent, [stage], _profile([stage]))


def _stages(run: RunDir) -> list[StageView]:
    names = {p.parent.name for p in run.root.glob(f"*/{MANIFEST}")}
    names |= {p.name[: -len(PARTIAL)] for p in run.root.glob(f"*{PARTIAL}") if p.is_dir()}
    views = [v for v in (_stage(run, n) for n in names) if v is not None]
    return pipeline_order(views)


def _stage(run: RunDir, name: str) -> StageView | None:
    manifest = run.manifest(name)
    if manifest is None:
        partial = run.partial_dir(name)
        if not partial.is_dir():
            return None
        started = datetime.fromtimestamp(partial.stat().st_mtime, timezone.utc).isoformat()
        return StageView(name, "interrupted", started=started)
    counts, metrics = manifest.get("counts") or {}, manifest.get("metrics") or {}
    merged = {**counts, **metrics}
    order = [k for k in manifest.get("key_order", []) if k in merged]
    values = {k: merged[k] for k in order + sorted(k for k in merged if k not in order)}
    return StageView(name, "complete", manifest.get("plugin", ""), manifest.get("seconds"),
                     manifest.get("started", ""), values, list(manifest.get("notes") or []),
                     sorted(manifest.get("inputs") or {}), manifest)


def pipeline_order(stages: list[StageView]) -> list[StageView]:
    """Every stage after the stages it read (its manifest's inputs), ties broken by start
    time: the order the pipeline ran them even when one was re-run on its own later."""
    by_name = {s.name: s for s in stages}
    waiting = {s.name: {i for i in s.inputs if i in by_name} for s in stages}
    ready = [(s.started, s.name) for s in stages if not waiting[s.name]]
    heapq.heapify(ready)
    out: list[StageView] = []
    while ready:
        _, name = heapq.heappop(ready)
        out.append(by_name[name])
        for other, needs in waiting.items():
            if name in needs:
                needs.discard(name)
                if not needs:
                    heapq.heappush(ready, (by_name[other].started, other))
    placed = {s.name for s in out}
    return out + sorted((s for s in stages if s.name not in placed), key=lambda s: (s.started, s.name))


def _profile(stages: list[StageView]) -> str:
    return next((str(s.manifest["profile"]) for s in stages if s.manifest.get("profile")), "")


def to_json(view: RunView) -> dict[str, Any]:
    """``inspect --json``: per stage (pipeline order) its status and the manifest's
    plugin, counts, metrics, seconds and notes as written."""
    out: dict[str, Any] = {}
    for stage in view.stages:
        if stage.status != "complete":
            out[stage.name] = {"status": "interrupted (resume with --resume)"}
            continue
        out[stage.name] = {k: stage.manifest.get(k) for k in ("plugin", "counts", "metrics", "seconds", "notes")}
        out[stage.name]["status"] = "complete"
    return out
