"""Enforcing the SFT mix (docs/recipe.md section 5, "SFT mix"): the capabilities present hold
their targets' proportions, by down-sampling the over-represented ones with a seeded choice.
Rows are never invented: the mix is as large as its scarcest capability allows, and a
capability too scarce to be held to its share (honouring it would drop more than
``max_drop`` of the rows) is reported short and kept whole.

Targets name capabilities (``SFTRow.capability``); ``"a+b"`` is one target shared by
several. Proportions among the capabilities present are the targets renormalised over them
(a capability with no rows cannot be met, and is reported absent).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from herd.core.errors import ConfigError
from herd.core.records import SFTRow
from herd.lib.sft_funnel.config import SFTMixConfig
from herd.lib.sft_funnel.funnel import DroppedRow

# Statuses of a capability group in the enforced mix.
DOWN_SAMPLED = "down_sampled"  # over-represented: a seeded choice of its rows is kept
KEPT_ALL = "kept_all"  # every row kept: it is the scarcest, the mix is sized by it
SHORT = "short"  # too few rows to hold its share without dropping over max_drop of the data: all kept, below target
ABSENT = "absent"  # no rows: its target cannot be met
NO_TARGET = "no_target"  # a capability the targets do not name: kept whole, outside the proportions


@dataclass
class MixGroup:
    """One target of the mix: its capabilities, the recipe's share, the share among the
    groups held to proportions (``target_present``), rows before and after, the achieved
    share of all kept rows and the status (see the module's constants)."""

    name: str
    target: float
    target_present: float
    available: int
    kept: int
    achieved: float
    status: str


@dataclass
class MixReport:
    """The SFT mix of a round: achieved vs target per capability group."""

    enforced: bool
    rows_in: int
    rows_out: int
    groups: list[MixGroup] = field(default_factory=list)

    def short(self) -> list[MixGroup]:
        return [g for g in self.groups if g.status in (SHORT, ABSENT)]


@dataclass
class MixResult:
    kept: list[SFTRow]
    dropped: list[DroppedRow]
    report: MixReport


def group_of(capability: str, targets: dict[str, float]) -> str | None:
    for name in targets:
        if capability in name.split("+"):
            return name
    return None


def check_targets(targets: dict[str, float]) -> None:
    seen: dict[str, str] = {}
    for name in targets:
        for capability in name.split("+"):
            if capability in seen:
                raise ConfigError(f"[sft_funnel.mix] targets: capability {capability!r} is in both "
                                  f"{seen[capability]!r} and {name!r}; name each capability once")
            seen[capability] = name
    if targets and sum(targets.values()) <= 0:
        raise ConfigError("[sft_funnel.mix] targets are all 0; give at least one capability a share")


def plan_counts(available: dict[str, int], targets: dict[str, float], max_drop: float) -> tuple[dict[str, int], set[str]]:
    """Rows to keep per target group, and the groups found short. The mix size is the
    largest for which every held group has enough rows (its scarcest group sets it); while
    that would keep less than ``1 - max_drop`` of the held groups' rows, the scarcest group
    is declared short and the rest are sized again."""
    held = [g for g in targets if available.get(g, 0) > 0 and targets[g] > 0]
    short: set[str] = set()
    keep: dict[str, int] = {}
    while held:
        total = sum(targets[g] for g in held)
        size = min(available[g] * total / targets[g] for g in held)
        keep = {g: min(available[g], round(targets[g] / total * size)) for g in held}
        scarcest = min(held, key=lambda g: (available[g] * total / targets[g], g))
        if len(held) > 1 and sum(keep.values()) < (1 - max_drop) * sum(available[g] for g in held):
            short.add(scarcest)
            held.remove(scarcest)
            continue
        break
    for g in short:
        keep[g] = available[g]
    return keep, short


def enforce_mix(rows: list[SFTRow], cfg: SFTMixConfig, seed: int) -> MixResult:
    """The rows of the mix (in their input order) and the down-sampled ones, with the
    achieved vs target report. With ``enforce`` off the rows pass whole and are reported."""
    check_targets(cfg.targets)
    by_group: dict[str, list[int]] = defaultdict(list)
    untargeted: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        group = group_of(row.capability, cfg.targets)
        (by_group[group] if group is not None else untargeted[row.capability]).append(i)
    available = {g: len(by_group.get(g, [])) for g in cfg.targets}
    if cfg.enforce:
        keep_counts, short = plan_counts(available, cfg.targets, cfg.max_drop)
    else:
        keep_counts, short = dict(available), set()
    chosen: set[int] = set()
    for group, indices in by_group.items():
        count = keep_counts.get(group, len(indices))
        picked = indices if count >= len(indices) else random.Random(f"{seed}/{group}").sample(indices, count)
        chosen.update(picked)
    for indices in untargeted.values():
        chosen.update(indices)
    kept = [row for i, row in enumerate(rows) if i in chosen]
    held_total = sum(cfg.targets[g] for g in cfg.targets if available[g] > 0 and g not in short)
    groups = []
    for group, target in cfg.targets.items():
        n_kept = keep_counts.get(group, 0)
        if available[group] == 0:
            status = ABSENT
        elif group in short:
            status = SHORT
        elif n_kept < available[group]:
            status = DOWN_SAMPLED
        else:
            status = KEPT_ALL
        present = target / held_total if status in (DOWN_SAMPLED, KEPT_ALL) and held_total > 0 else 0.0
        groups.append(MixGroup(group, target, present, available[group], n_kept,
                               n_kept / len(kept) if kept else 0.0, status))
    for capability, indices in sorted(untargeted.items()):
        groups.append(MixGroup(capability, 0.0, 0.0, len(indices), len(indices),
                               len(indices) / len(kept) if kept else 0.0, NO_TARGET))
    dropped = []
    for i, row in enumerate(rows):
        if i in chosen:
            continue
        group = group_of(row.capability, cfg.targets)
        detail = (f"capability group {group!r}: {available[group]} rows for a target share of "
                  f"{cfg.targets[group]:g}; {keep_counts[group]} kept (seeded choice)")
        dropped.append(DroppedRow(row, "sft_mix", "sft_mix.down_sampled", detail))
    return MixResult(kept, dropped, MixReport(cfg.enforce, len(rows), len(kept), groups))
