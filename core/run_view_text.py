"""``herd inspect``'s text: a section per stage in pipeline order, each stage's numbers laid
out from their dotted names alone (no plugin knowledge).

Names that share a prefix become a sub-section (``multilingual``); prefixes that share
names become one table (``out.read``/``dropped.read``/``seconds.read`` -> a row ``read``
with columns ``out``, ``dropped``, ``seconds``), rows in the order the stage reported them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from herd.core.run_view import RunView, StageView

INDENT = "  "


def format_value(value: object) -> str:
    """Integers in full with thousands separators; other numbers to 3 significant digits
    (``0.1699251774041086`` -> ``0.17``, ``689.94`` -> ``690``); the rest as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() or abs(value) >= 1000:
        return f"{round(value):,}"
    return f"{value:.3g}"


def collapse_repeats(key: str) -> str:
    """``multilingual.multilingual.de.x`` -> ``multilingual.de.x``: a stage that prefixes
    a name its component already prefixed says the same thing twice."""
    parts: list[str] = []
    for part in key.split("."):
        if not parts or parts[-1] != part:
            parts.append(part)
    return ".".join(parts)


@dataclass
class Lines:
    rows: list[tuple[str, str]]


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass
class Group:
    title: str
    blocks: list["Lines | Table | Group"] = field(default_factory=list)


Block = Lines | Table | Group


def layout(values: dict[str, object]) -> list[Block]:
    """The blocks that show ``values`` (dotted names, in order)."""
    plain = [(k, format_value(v)) for k, v in values.items() if "." not in k]
    by_prefix: dict[str, dict[str, object]] = {}
    first_seen: dict[str, int] = {}  # a table's rows follow the order the stage reported them
    for index, (key, value) in enumerate(values.items()):
        if "." in key:
            prefix, rest = key.split(".", 1)
            by_prefix.setdefault(prefix, {})[rest] = value
            first_seen.setdefault(rest, index)
    blocks: list[Block] = [Lines(plain)] if plain else []
    singles: list[tuple[str, str]] = []
    for cluster in _clusters(by_prefix):
        if len(cluster) > 1:
            blocks.append(_table({p: by_prefix[p] for p in cluster}, first_seen))
            continue
        prefix = cluster[0]
        rests = by_prefix[prefix]
        if len(rests) == 1:
            rest, value = next(iter(rests.items()))
            singles.append((f"{prefix}.{rest}", format_value(value)))
            continue
        inner = layout(rests)
        if len(inner) == 1 and isinstance(inner[0], Group):  # "code_pass_at_k" holding only "code"
            blocks.append(Group(f"{prefix}.{inner[0].title}", inner[0].blocks))
        else:
            blocks.append(Group(prefix, inner))
    if singles:  # one aligned list with the plain names
        blocks = [Lines(plain + singles)] + blocks[1 if plain else 0:]
    return blocks


def _clusters(by_prefix: dict[str, dict[str, object]]) -> list[list[str]]:
    """Prefixes joined when they share a name, each cluster in first-seen order."""
    owner = {p: p for p in by_prefix}

    def root(p: str) -> str:
        while owner[p] != p:
            p = owner[p]
        return p

    seen: dict[str, str] = {}
    for prefix, rests in by_prefix.items():
        for rest in rests:
            if rest in seen:
                owner[root(prefix)] = root(seen[rest])
            else:
                seen[rest] = prefix
    clusters: dict[str, list[str]] = {}
    for prefix in by_prefix:
        clusters.setdefault(root(prefix), []).append(prefix)
    return list(clusters.values())


def _table(columns: dict[str, dict[str, object]], first_seen: dict[str, int]) -> Table:
    names = sorted({r for rests in columns.values() for r in rests}, key=first_seen.__getitem__)
    if len(columns) > len(names):  # the narrower side becomes the columns
        return Table(names, [(c, [_cell(columns[c], n) for n in names]) for c in columns])
    return Table(list(columns), [(n, [_cell(columns[c], n) for c in columns]) for n in names])


def _cell(rests: dict[str, object], name: str) -> str:
    return format_value(rests[name]) if name in rests else "-"


def render_blocks(blocks: list[Block], depth: int = 1) -> list[str]:
    pad = INDENT * depth
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Lines):
            width = max(len(k) for k, _ in block.rows)
            out += [f"{pad}{k:<{width}}  {v:>10}" for k, v in block.rows]
        elif isinstance(block, Table):
            label = max(len(name) for name, _ in block.rows)
            widths = [max([len(c)] + [len(cells[i]) for _, cells in block.rows]) for i, c in enumerate(block.columns)]
            out.append(f"{pad}{'':<{label}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(block.columns, widths)))
            out += [f"{pad}{name:<{label}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths))
                    for name, cells in block.rows]
        else:
            out.append(f"{pad}{block.title}")
            out += render_blocks(block.blocks, depth + 1)
    return out


def stage_heading(stage: StageView) -> str:
    if stage.status != "complete":
        return f"== {stage.name}: interrupted (continue it with `herd run --resume`) =="
    parts = [f"plugin '{stage.plugin}'"]
    if stage.seconds is not None:
        parts.append(f"{format_value(float(stage.seconds))} s")
    if stage.started:
        parts.append(f"started {_when(stage.started)}")
    return f"== {stage.name}: complete, " + ", ".join(parts) + " =="


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except ValueError:
        return iso


def render(view: RunView) -> str:
    lines = [f"run {view.root}" + (f" (profile {view.profile})" if view.profile else "")]
    if not view.stages:
        lines.append("no stage has run yet")
    for stage in view.stages:
        lines += ["", stage_heading(stage)]
        values = {collapse_repeats(k): v for k, v in stage.values.items()}
        lines += render_blocks(layout(values))
        if stage.notes:
            lines.append(f"{INDENT}notes:")
            lines += [f"{INDENT * 2}- {note}" for note in stage.notes]
    return "\n".join(lines) + "\n"
