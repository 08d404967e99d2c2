"""The two-step downstream prediction (docs/recipe.md section 2): compute -> normalised NLL of
the correct answer on a benchmark (a line in log10 compute, fitted on the scaling-law
models), then NLL -> accuracy (a sigmoid, fitted on every model with both numbers, e.g.
the scaling-law models plus older, larger ones).

Observations come from a JSONL file: a line with ``compute`` and ``nll`` feeds step 1, a
line with ``nll`` and ``accuracy`` feeds step 2 (a line may feed both)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from herd.core.errors import InputError
from herd.plugins.scaling.laws import NllFit, SigmoidFit, fit_nll, fit_sigmoid


@dataclass
class DownstreamPrediction:
    budget: float
    nll: float
    accuracy: float
    nll_fit: NllFit
    sigmoid: SigmoidFit
    compute_points: int
    accuracy_points: int

    def to_dict(self) -> dict:
        return asdict(self)


def _number(value, path: Path, lineno: int, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{path}:{lineno}: {key!r} must be a finite number, got {value!r}")
    return float(value)


def read_points(path: Path) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """``(compute, nll)`` and ``(nll, accuracy)`` pairs of a JSONL file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: observations file not found")
    by_compute, by_nll = [], []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{lineno}: not JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{lineno}: expected an object with compute/nll/accuracy")
        compute, nll, acc = (_number(row.get(k), path, lineno, k) for k in ("compute", "nll", "accuracy"))
        if nll is None:
            raise InputError(f"{path}:{lineno}: every observation needs 'nll'")
        if compute is not None:
            if compute <= 0:
                raise InputError(f"{path}:{lineno}: 'compute' must be positive FLOPs, got {compute}")
            by_compute.append((compute, nll))
        if acc is not None:
            if not 0.0 <= acc <= 1.0:
                raise InputError(f"{path}:{lineno}: 'accuracy' must be in [0, 1], got {acc}")
            by_nll.append((nll, acc))
        if compute is None and acc is None:
            raise InputError(f"{path}:{lineno}: an observation needs 'compute' or 'accuracy' besides 'nll'")
    return by_compute, by_nll


def predict_downstream(by_compute: list[tuple[float, float]], by_nll: list[tuple[float, float]], budget: float,
                       floor: float | None = None) -> DownstreamPrediction:
    if len({c for c, _ in by_compute}) < 2:
        raise ValueError("step 1 (compute -> NLL) needs observations at 2 or more compute budgets")
    if len(by_nll) < (3 if floor is not None else 4):
        raise ValueError("step 2 (NLL -> accuracy) needs at least 4 (NLL, accuracy) observations (3 with --floor)")
    nll_fit = fit_nll([c for c, _ in by_compute], [n for _, n in by_compute])
    sigmoid = fit_sigmoid([n for n, _ in by_nll], [a for _, a in by_nll], floor=floor)
    nll = nll_fit.nll(budget)
    return DownstreamPrediction(budget, nll, sigmoid.accuracy(nll), nll_fit, sigmoid, len(by_compute), len(by_nll))
