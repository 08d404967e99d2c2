"""The small result file each benchmark writes (bench/results/<bench>.json) and that
bench/summarize.py renders into docs/benchmarks.md: one row per figure, already formatted by the
benchmark that measured it, with the machine's load average while it ran."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    """One figure of the summary table. ``load``: the 1-minute load averages seen during the
    runs behind the figure (min-max), on a machine with ``cores`` cores."""

    what: str
    herd: str
    peer: str
    ratio: str
    load: str
    page: str
    goal: str = ""


@dataclass(frozen=True)
class BenchResult:
    bench: str
    command: str
    machine: str
    rows: list[Row] = field(default_factory=list)


def machine() -> str:
    return f"{os.cpu_count()} x {platform.machine()} cores, Python {platform.python_version()}"


def load_range(loads: list[float]) -> str:
    return f"{min(loads):.1f}-{max(loads):.1f}" if loads else "not recorded"


def write_result(result: BenchResult, folder: Path = RESULTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.bench}.json"
    path.write_text(json.dumps(asdict(result), indent=1) + "\n")
    return path


def read_results(folder: Path = RESULTS) -> list[BenchResult]:
    out = []
    for path in sorted(folder.glob("*.json")):
        raw = json.loads(path.read_text())
        try:
            rows = [Row(**row) for row in raw["rows"]]
            out.append(BenchResult(bench=raw["bench"], command=raw["command"], machine=raw["machine"], rows=rows))
        except (KeyError, TypeError) as exc:
            raise SystemExit(f"{path}: not a benchmark result file ({exc}); re-run the benchmark that "
                             f"wrote it, or delete the file") from exc
    return out
