"""The report's SFT data sections, from each post-training round's ``sft_data.json``
(``herd.lib.sft_funnel.report``): the funnel by judge (rows each judge saw, dropped and
labelled), the kept rows by label, and the SFT mix achieved vs target (docs/recipe.md
section 5), with the capabilities that are short of data said so."""

from __future__ import annotations

import re
from pathlib import Path

from herd.lib.sft_funnel.report import FILE, SFTDataReport, read_sft_data_report

Section = tuple[str, list[str], list[list[str]], str | None]


def read_rounds(posttrain_dir: Path | None) -> list[SFTDataReport]:
    if posttrain_dir is None:
        return []
    found = []
    for path in Path(posttrain_dir).glob(f"round_*/{FILE}"):
        match = re.fullmatch(r"round_(\d+)", path.parent.name)
        if match:
            found.append((int(match.group(1)), path))
    return [read_sft_data_report(path) for _, path in sorted(found)]


def sft_data_sections(posttrain_dir: Path | None) -> list[Section]:
    reports = read_rounds(posttrain_dir)
    if not reports:
        return []
    judges = [[str(r.round), step.judge, str(step.rows_in), str(step.dropped), str(step.labelled)]
              for r in reports for step in r.judges]
    labels = [[str(r.round), name, ", ".join(f"{value}={count}" for value, count in values.items())]
              for r in reports for name, values in r.labels.items()]
    out: list[Section] = [
        ("SFT funnel by judge", ["round", "judge", "rows in", "dropped", "labelled"], judges, None),
        ("SFT row labels", ["round", "label", "kept rows by value"], labels, None),
    ]
    mix = [[str(r.round), g.name, f"{g.target:.4g}", f"{g.target_present:.3f}", str(g.available), str(g.kept),
            f"{g.achieved:.3f}", g.status]
           for r in reports if r.mix is not None for g in r.mix.groups]
    if mix:
        out.append(("SFT mix: achieved vs target",
                    ["round", "capability", "target", "target among present", "rows", "kept", "achieved", "status"],
                    mix, None))
    short = [[str(r.round), f"{g.name}: {g.status} ({g.available} rows for a target share of {g.target:g})"]
             for r in reports if r.mix is not None for g in r.mix.short()]
    if short:
        out.append(("SFT mix: capabilities short of data", ["round", "capability"], short, None))
    return out
