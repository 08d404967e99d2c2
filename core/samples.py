"""Sample generations of a model on fixed prompts: what post-training writes for its starting
model (round 0) and each round's model, and what the report shows side by side.

A contract between stages (like ``posttrain_summary``): ``posttrain/samples.json`` holds a
list of ``ModelSamples``, round 0 first, each on the same prompts in the same order.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from herd.core import atomic
from herd.core.errors import InputError

SAMPLES_FILE = "samples.json"


@dataclass(frozen=True)
class Sample:
    """One greedy generation: the user ``prompt``, the model's ``response`` and, where the
    prompt has one, the ``expected`` answer."""

    prompt: str
    response: str
    expected: str = ""


@dataclass
class ModelSamples:
    """One model's samples; ``round`` 0 is the model before post-training."""

    round: int
    samples: list[Sample] = field(default_factory=list)


def write_samples(path: Path, models: list[ModelSamples]) -> None:
    atomic.write_json(path, [asdict(m) for m in models])


def read_samples(path: Path) -> list[ModelSamples]:
    """The list ``write_samples`` wrote; a malformed file is an error naming it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist; the posttrain stage writes it") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a list of models' samples, got {type(data).__name__}")
    out = []
    for i, entry in enumerate(data):
        try:
            out.append(ModelSamples(int(entry["round"]), [Sample(**s) for s in entry["samples"]]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path} entry {i}: not a model's samples ({exc}); re-run the posttrain stage") from exc
    return out
