"""The stage graph curate -> mix -> pretrain -> posttrain -> evaluate -> report, and the
driver that runs it in a run directory.

Each stage is implemented by a plugin (``herd_register_stages``), reads only the artifacts
of the earlier stages it names, and writes into its own folder. The driver, not the
stage, handles caching (a stage whose code, config and inputs are unchanged is skipped;
``stage_code_digest`` says which code counts),
resumption (``--resume`` continues an interrupted attempt) and the atomic hand-over of a
stage's folder once it is complete.
"""

from __future__ import annotations

import logging
import platform
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from herd.core.components import Component, Registry
from herd.core.config import Config
from herd.core.errors import HerdError, StageError, disk_full_error
from herd.core.hashing import digest_of, source_digest, tree_digest
from herd.core.rundir import ATTEMPT, MANIFEST, RunDir

STAGES = ("curate", "mix", "pretrain", "posttrain", "evaluate", "report")
# In ``optional_reads``: every stage that runs before this one (the report reads them all).
ALL_EARLIER = "*"
# In ``reads``/``optional_reads``: ``"provides:<what>"`` names every registered stage whose
# registration declares ``provides=("<what>", ...)`` (posttrain reads whichever stages
# provide ``expert_model``), so a consumer never names another plugin's stage.
PROVIDES = "provides:"

# herd's own layers every stage runs on: their sources are in every stage's cache key.
CORE_DIR = Path(__file__).resolve().parent
LIB_DIR = CORE_DIR.parent / "lib"

# Packages whose versions decide results; recorded in every manifest.
TRACKED_PACKAGES = ("herd", "torch", "numpy", "pluggy", "transformers", "tokenizers", "datasets", "ray")


@dataclass
class StageResult:
    counts: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class StageContext:
    """What a stage's ``run`` receives. Write every artifact under ``workdir``."""

    name: str
    config: Config
    workdir: Path
    inputs: dict[str, Path]
    registry: Registry
    plugins: list[str]
    log: logging.Logger
    resuming: bool
    run_dir: Path
    profile: str

    def build(self, family: str, name: str, *extra: Any) -> Any:
        """Instantiate a registered component with its config section."""
        component = self.registry.get(family, name)
        return component.factory(self.config.component(family, name), *extra)


@dataclass
class StageOutcome:
    stage: str
    status: str  # "ran", "cached", "skipped", "failed"
    reason: str = ""
    seconds: float = 0.0
    manifest: dict[str, Any] | None = None


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def providers(stages: dict[str, Component], what: str) -> list[str]:
    """The stages whose registration declares ``provides`` containing ``what``, by name."""
    return sorted(name for name, c in stages.items() if what in c.options.get("provides", ()))


def resolve_reads(names: tuple[str, ...] | list[str], stages: dict[str, Component]) -> list[str]:
    """Stage names with every ``"provides:<what>"`` replaced by the stages that provide it."""
    out: list[str] = []
    for name in names:
        out += providers(stages, name[len(PROVIDES):]) if name.startswith(PROVIDES) else [name]
    return list(dict.fromkeys(out))


def _dependencies(component: Component, stages: dict[str, Component]) -> list[str]:
    names = resolve_reads(component.options.get("reads", ()), stages)
    names += resolve_reads(component.options.get("optional_reads", ()), stages)
    return [n for n in names if n != ALL_EARLIER and n != component.name]


def stage_order(stages: dict[str, Component]) -> list[str]:
    """The recipe's stages (``STAGES``) with the stages plugins add placed right after the
    last stage they read, so a capability stage (a code expert reading ``pretrain``) runs
    before the recipe stages that may read it. A stage that reads a stage nobody
    registers, or a cycle, is an error naming the stage."""
    order = list(STAGES)
    pending = sorted(n for n in stages if n not in STAGES)
    while pending:
        placed = [n for n in pending if all(d in order for d in _dependencies(stages[n], stages))]
        if not placed:
            name = pending[0]
            missing = [d for d in _dependencies(stages[name], stages) if d not in order and d not in pending]
            why = f"it reads unknown stage(s) {', '.join(missing)}" if missing else "its reads form a cycle"
            raise StageError(f"stage '{name}' (plugin '{stages[name].plugin}') cannot be placed: {why}")
        for name in placed:
            deps = _dependencies(stages[name], stages)
            position = max((order.index(d) for d in deps), default=-1) + 1
            order.insert(position, name)
            pending.remove(name)
    for position, name in enumerate(order):
        if name in stages:
            late = [d for d in resolve_reads(stages[name].options.get("reads", ()), stages)
                    if d in order and order.index(d) > position]
            if late:
                raise StageError(f"stage '{name}' reads {', '.join(late)}, which runs after it")
    return order


class Pipeline:
    def __init__(
        self,
        registry: Registry,
        config: Config,
        run_dir: RunDir,
        plugin_versions: dict[str, str],
        log: logging.Logger,
        plugin_sources: dict[str, Path | None] | None = None,
    ):
        """``plugin_sources``: each plugin's package folder or module file
        (``LoadedPlugins.sources()``); a plugin without one is keyed by its version only."""
        self.registry = registry
        self.config = config
        self.run_dir = run_dir
        self.plugin_versions = plugin_versions
        self.plugin_sources = plugin_sources or {}
        self.log = log
        self._digests: dict[Path, str] = {}

    def code_plugins(self, impl: Component) -> list[str]:
        """The plugins whose code decides the stage's output: the implementing plugin and those
        that registered a component in a family the stage's ``config_sections`` name (curate
        runs the registered filters; pretrain builds the configured trainer). Other active
        plugins do not count, so installing an unrelated one keeps the stage cached."""
        families = [s for s in impl.options.get("config_sections", ()) if s in self.registry.components]
        owners = {c.plugin for family in families for c in self.registry.components[family].values()}
        return sorted(owners | {impl.plugin})

    def stage_code_digest(self, impl: Component) -> str:
        """Hash of the stage's code: herd's ``core`` and ``lib`` and the ``.py`` files of each of
        ``code_plugins``' packages (a file of its own for a single-module plugin)."""
        parts: dict[str, str] = {}
        for name, root in [("core", CORE_DIR), ("lib", LIB_DIR)] + [
            (f"plugin:{p}", self.plugin_sources.get(p)) for p in self.code_plugins(impl)
        ]:
            if root is None:
                parts[name] = f"version {self.plugin_versions.get(name.removeprefix('plugin:'), '')}"
                continue
            if root not in self._digests:
                self._digests[root] = source_digest([root])
            parts[name] = self._digests[root]
        return digest_of(parts)

    def implementation(self, stage: str) -> Component | None:
        return self.registry.components["stages"].get(stage)

    def run(self, stages: list[str] | None = None, resume: bool = False) -> list[StageOutcome]:
        order = stage_order(self.registry.components["stages"])
        wanted = list(stages or order)
        unknown = [s for s in wanted if s not in order]
        if unknown:
            raise StageError(f"unknown stage(s) {', '.join(unknown)}; the stages are {', '.join(order)}")
        self.order = order
        outcomes: dict[str, StageOutcome] = {}
        for stage in order:
            if stage not in wanted:
                continue
            outcome = self._run_stage(stage, outcomes, resume)
            outcomes[stage] = outcome
        return list(outcomes.values())

    def _run_stage(self, stage: str, earlier: dict[str, StageOutcome], resume: bool) -> StageOutcome:
        impl = self.implementation(stage)
        if impl is None:
            reason = "no active plugin implements it"
            self.log.warning("stage %-9s SKIPPED: %s", stage, reason)
            return StageOutcome(stage, "skipped", reason)
        stages = self.registry.components["stages"]
        reads = tuple(resolve_reads(impl.options.get("reads", ()), stages))
        inputs: dict[str, Path] = {}
        input_hashes: dict[str, str] = {}
        for needed in reads:
            manifest = self.run_dir.manifest(needed)
            if manifest is None:
                why = earlier.get(needed)
                detail = f"{why.status}: {why.reason}" if why else "not run in this run directory"
                reason = f"it reads stage '{needed}', which has no completed output ({detail})"
                self.log.warning("stage %-9s SKIPPED: %s", stage, reason)
                return StageOutcome(stage, "skipped", reason)
            inputs[needed] = self.run_dir.stage_dir(needed)
            input_hashes[needed] = manifest["output_hash"]
        optional_reads = resolve_reads(impl.options.get("optional_reads", ()), stages)
        if ALL_EARLIER in optional_reads:
            optional_reads += [s for s in self.order[: self.order.index(stage)] if s not in reads]
        for optional in dict.fromkeys(o for o in optional_reads if o != ALL_EARLIER):
            manifest = self.run_dir.manifest(optional)
            if manifest is not None:
                inputs[optional] = self.run_dir.stage_dir(optional)
                input_hashes[optional] = manifest["output_hash"]
        sections = tuple(impl.options.get("config_sections", ()))
        code = self.stage_code_digest(impl)
        key = digest_of(
            {
                "stage": stage,
                "plugin": impl.plugin,
                "plugin_version": self.plugin_versions.get(impl.plugin, ""),
                "code": code,
                "config": self.config.subset_hash(sections),
                "seed": self.config.run.seed,
                "inputs": input_hashes,
            }
        )
        done = self.run_dir.manifest(stage)
        if done is not None and done.get("key") == key:
            self.log.info("stage %-9s up to date (code, inputs and config unchanged)", stage)
            return StageOutcome(stage, "cached", "code, inputs and config unchanged", manifest=done)
        resuming = self.run_dir.start_attempt(stage, key, resume)
        if not resuming and done is not None:
            self.run_dir.invalidate(stage)
        workdir = self.run_dir.partial_dir(stage)
        ctx = StageContext(
            name=stage,
            config=self.config,
            workdir=workdir,
            inputs=inputs,
            registry=self.registry,
            plugins=list(self.plugin_versions),
            log=self.log.getChild(stage),
            resuming=resuming,
            run_dir=self.run_dir.root,
            profile=self.config.profile,
        )
        self.log.info("stage %-9s %s (plugin '%s')", stage, "resuming" if resuming else "running", impl.plugin)
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()
        try:
            result = impl.factory(ctx)
        except Exception as exc:
            full = disk_full_error(exc, str(workdir))  # whichever write path met the full disk
            if full is not None:
                raise StageError(
                    f"stage '{stage}' (plugin '{impl.plugin}'): {full}; the partial output in {workdir} is kept"
                ) from exc
            if isinstance(exc, HerdError):
                raise StageError(
                    f"stage '{stage}' (plugin '{impl.plugin}') failed: {exc}. Its partial output is "
                    f"kept in {workdir}; fix the cause and re-run with --resume"
                ) from exc
            raise self._crashed(stage, impl, workdir, exc) from exc
        if not isinstance(result, StageResult):
            raise StageError(
                f"stage '{stage}' (plugin '{impl.plugin}') returned {type(result).__name__}, "
                "not a StageResult"
            )
        seconds = time.perf_counter() - clock
        outputs = tree_digest(workdir, skip=frozenset({ATTEMPT, MANIFEST}))
        manifest = {
            "stage": stage,
            "plugin": impl.plugin,
            "plugin_versions": self.plugin_versions,
            "key": key,
            "code_hash": code,
            "code_plugins": self.code_plugins(impl),
            "config_sections": list(sections),
            "config_hash": self.config.subset_hash(sections),
            "profile": self.config.profile,
            "inputs": input_hashes,
            "outputs": outputs,
            "output_hash": digest_of({k: v["sha256"] for k, v in outputs.items()}),
            "counts": result.counts,
            "metrics": result.metrics,
            # The manifest is written with sorted keys; ``inspect`` shows them in the order the
            # stage gave them (a funnel's steps in the order they ran).
            "key_order": list(result.counts) + list(result.metrics),
            "notes": result.notes,
            "resumed": resuming,
            "started": started.isoformat(),
            "seconds": round(seconds, 3),
            "package_versions": package_versions(),
        }
        self.run_dir.complete(stage, manifest)
        self.log.info("stage %-9s done in %.1fs %s", stage, seconds, _summary(result))
        return StageOutcome(stage, "ran", seconds=seconds, manifest=manifest)


    def _crashed(self, stage: str, impl: Component, workdir: Path, exc: BaseException) -> StageError:
        self.log.debug("stage %s traceback:\n%s", stage, traceback.format_exc())
        return StageError(
            f"stage '{stage}' (plugin '{impl.plugin}') raised {type(exc).__name__}: {exc}. "
            f"Its partial output is kept in {workdir}; fix the cause and re-run with --resume "
            "(--verbose shows the traceback)"
        )


def _summary(result: StageResult) -> str:
    parts = [f"{k}={v}" for k, v in list(result.counts.items())[:6]]
    return f"({', '.join(parts)})" if parts else ""


RunFn = Callable[[StageContext], StageResult]
