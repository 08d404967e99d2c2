"""What the SFT funnel leaves for a round (``round_<r>/sft_data.json``): the funnel by judge
(rows each judge saw, dropped and labelled), the kept rows by label (language, topic,
quality, difficulty) and the SFT mix, achieved vs target. Written from and read back into
these dataclasses, so the report stage reads typed records, not dicts of unknown shape."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from herd.core import atomic
from herd.core.errors import InputError
from herd.lib.sft_funnel.funnel import JudgeStep
from herd.lib.sft_funnel.mix import MixGroup, MixReport

FILE = "sft_data.json"


@dataclass
class SFTDataReport:
    round: int
    rows_in: int
    judges: list[JudgeStep] = field(default_factory=list)
    labels: dict[str, dict[str, int]] = field(default_factory=dict)
    mix: MixReport | None = None


def write_sft_data_report(path: Path, report: SFTDataReport) -> None:
    atomic.write_json(Path(path), asdict(report))


def read_sft_data_report(path: Path) -> SFTDataReport:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist; the posttrain stage writes it for every round") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    try:
        mix: Any = data.get("mix")
        return SFTDataReport(
            round=int(data["round"]),
            rows_in=int(data["rows_in"]),
            judges=[JudgeStep(**step) for step in data["judges"]],
            labels={str(k): {str(v): int(n) for v, n in values.items()} for k, values in data["labels"].items()},
            mix=None if mix is None else MixReport(
                enforced=bool(mix["enforced"]), rows_in=int(mix["rows_in"]), rows_out=int(mix["rows_out"]),
                groups=[MixGroup(**group) for group in mix["groups"]]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path}: not an SFT data report ({exc}); re-run the posttrain stage") from exc
