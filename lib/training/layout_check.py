"""``herd run --check``: every stage's parallel layout validated against its training
backend before any stage runs.

A stage asks for a layout through one of its config sections (``LayoutSection``:
``[pretrain]``, ``[posttrain]``); the trainer that section names answers with
``Trainer.check(layout)``, the problems it would refuse at run time."""

from __future__ import annotations

from dataclasses import dataclass, field

from herd.core.components import Registry
from herd.core.config import Config
from herd.core.errors import HerdError
from herd.core.protocols import LayoutSection, Trainer, TrainingLayout


@dataclass
class LayoutReport:
    layouts: list[TrainingLayout] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = []
        for layout in self.layouts:
            p = layout.parallel
            lines.append(f"{layout.stage}: [{layout.section}] trainer={layout.trainer} tp={p.tp} cp={p.cp} "
                         f"pp={p.pp} dp={p.dp} ({p.world_size} ranks)")
        return "\n".join(lines) or "no stage asks a trainer for a parallel layout"


def check_layouts(registry: Registry, config: Config, stages: list[str] | None = None) -> LayoutReport:
    """Check the layouts of ``stages`` (default: the config's ``run.stages``, else every stage)."""
    report = LayoutReport()
    names = stages or list(config.run.stages) or registry.names("stages")
    for name in names:
        if name not in registry.components["stages"]:
            continue
        for section in registry.get("stages", name).options.get("config_sections", ()):
            if not config.has_section(section):
                continue
            owner = config.section(section)
            if not isinstance(owner, LayoutSection):
                continue
            layout = owner.training_layout(name, section)
            report.layouts.append(layout)
            report.problems += [f"stage {name}: {p}" for p in _check(registry, config, layout)]
    return report


def _check(registry: Registry, config: Config, layout: TrainingLayout) -> list[str]:
    try:
        component = registry.get("trainers", layout.trainer)
        trainer = component.factory(config.component("trainers", layout.trainer))
    except HerdError as exc:
        return [f"[{layout.section}] trainer={layout.trainer!r}: {exc}"]
    if not isinstance(trainer, Trainer):
        return [f"[{layout.section}] trainer={layout.trainer!r} (plugin '{component.plugin}') lacks check(layout); "
                "it cannot be validated"]
    return [f"{p} (backend '{layout.trainer}')" for p in trainer.check(layout)]
