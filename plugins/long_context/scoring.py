"""RULER's scores (``scripts/eval/synthetic/constants.py`` and ``evaluate.py``).

``string_match_all``: per sample, the share of its references found in the prediction
(case-insensitive substring); ``string_match_part``: 1 when any reference is found. Both
average over samples and, as RULER reports them, are percentages rounded to 2 decimals.
Every synthetic task here is scored with ``string_match_all`` (RULER's ``qa`` tasks use
``part``). Predictions are cleaned as RULER cleans them: stripped, control characters made
newlines."""

from __future__ import annotations

import re
from typing import Sequence

from herd.core.errors import ConfigError

_CONTROL = re.compile(r"[\x00-\x1f]")


def postprocess(prediction: str) -> str:
    return _CONTROL.sub("\n", prediction.strip()).strip()


def match_all(prediction: str, references: Sequence[str]) -> float:
    if not references:
        raise ConfigError("string_match_all: a sample has no reference answers (empty `outputs`)")
    text = prediction.lower()
    return sum(1.0 for r in references if r.lower() in text) / len(references)


def match_part(prediction: str, references: Sequence[str]) -> float:
    if not references:
        raise ConfigError("string_match_part: a sample has no reference answers (empty `outputs`)")
    text = prediction.lower()
    return max(1.0 if r.lower() in text else 0.0 for r in references)


def _mean_percent(scores: list[float]) -> float:
    if not scores:
        raise ConfigError("string_match: no predictions to score")
    return round(sum(scores) / len(scores) * 100, 2)


def string_match_all(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    return _mean_percent([match_all(p, r) for p, r in zip(predictions, references, strict=True)])


def string_match_part(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    return _mean_percent([match_part(p, r) for p, r in zip(predictions, references, strict=True)])


METRICS = {"string_match_all": string_match_all, "string_match_part": string_match_part}
