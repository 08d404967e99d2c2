"""Scaling-law fits (docs/recipe.md section 2).

IsoFLOP method: for each compute budget C, train models of several sizes on C / (FLOPs
per token) tokens, fit a parabola of validation loss against log10(training tokens), and
take its minimum as the compute-optimal token count N*(C). Then fit the power law
N*(C) = A * C^alpha (a line in log-log space) and extrapolate to a target budget; the
model size follows from C = 6 * params * tokens.

Downstream prediction is two steps: compute -> normalised NLL of the correct answer
(linear in log10 C), then NLL -> accuracy (a sigmoid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class ParabolaFit:
    budget: float
    a: float
    b: float
    c: float
    r2: float

    @property
    def convex(self) -> bool:
        return self.a > 0

    @property
    def optimal_tokens(self) -> float:
        """Tokens at the parabola's minimum (only meaningful when ``convex``)."""
        return 10 ** (-self.b / (2 * self.a))

    @property
    def optimal_loss(self) -> float:
        x = -self.b / (2 * self.a)
        return self.a * x * x + self.b * x + self.c


@dataclass
class PowerLaw:
    alpha: float
    A: float
    r2: float

    def tokens(self, budget: float) -> float:
        return self.A * budget**self.alpha


@dataclass
class Prediction:
    budget: float
    tokens: float
    params: float


def r_squared(y: np.ndarray, fitted: np.ndarray) -> float:
    ss_res = float(((y - fitted) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0


def fit_parabola(budget: float, tokens: list[float], losses: list[float]) -> ParabolaFit:
    if len(tokens) < 3:
        raise ValueError(f"budget {budget:.3g}: a parabola needs at least 3 runs, got {len(tokens)}")
    x, y = np.log10(np.asarray(tokens, dtype=float)), np.asarray(losses, dtype=float)
    a, b, c = np.polyfit(x, y, 2)
    return ParabolaFit(budget, float(a), float(b), float(c), r_squared(y, np.polyval([a, b, c], x)))


def fit_power_law(budgets: list[float], optimal_tokens: list[float]) -> PowerLaw:
    if len(budgets) < 2:
        raise ValueError(f"the power law needs at least 2 budgets with a convex fit, got {len(budgets)}")
    x, y = np.log10(np.asarray(budgets, dtype=float)), np.log10(np.asarray(optimal_tokens, dtype=float))
    alpha, log_a = np.polyfit(x, y, 1)
    return PowerLaw(float(alpha), float(10**log_a), r_squared(y, np.polyval([alpha, log_a], x)))


def predict(law: PowerLaw, budget: float) -> Prediction:
    """Compute-optimal tokens and parameters at ``budget`` (C = 6 N D)."""
    tokens = law.tokens(budget)
    return Prediction(budget, tokens, budget / (6 * tokens))


def implied_alpha(budget: float, tokens: float, A: float) -> float:
    """The exponent that maps ``budget`` to ``tokens`` for a given ``A``."""
    return math.log(tokens / A) / math.log(budget)


# --- downstream: compute -> NLL -> accuracy ------------------------------------------------
@dataclass
class NllFit:
    slope: float
    intercept: float
    r2: float

    def nll(self, budget: float) -> float:
        return self.slope * math.log10(budget) + self.intercept


@dataclass
class SigmoidFit:
    """accuracy = floor + (ceiling - floor) / (1 + exp(k * (nll - midpoint)))."""

    floor: float
    ceiling: float
    k: float
    midpoint: float
    r2: float

    def accuracy(self, nll: float) -> float:
        return self.floor + (self.ceiling - self.floor) / (1 + math.exp(self.k * (nll - self.midpoint)))


def fit_nll(budgets: list[float], nlls: list[float]) -> NllFit:
    x, y = np.log10(np.asarray(budgets, dtype=float)), np.asarray(nlls, dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    return NllFit(float(slope), float(intercept), r_squared(y, np.polyval([slope, intercept], x)))


def fit_sigmoid(nlls: list[float], accuracies: list[float], floor: float | None = None) -> SigmoidFit:
    """Fit the NLL -> accuracy sigmoid; ``floor`` fixes chance accuracy (0.25 for 4 choices)."""
    from scipy.optimize import curve_fit

    x, y = np.asarray(nlls, dtype=float), np.asarray(accuracies, dtype=float)

    def free(v, lo, hi, k, m):
        return lo + (hi - lo) / (1 + np.exp(k * (v - m)))

    def fixed(v, hi, k, m):
        return free(v, floor, hi, k, m)

    start = [float(y.max()), 5.0, float(np.median(x))]
    if floor is None:
        params, _ = curve_fit(free, x, y, p0=[float(y.min())] + start, maxfev=20000)
        lo, hi, k, m = params
    else:
        params, _ = curve_fit(fixed, x, y, p0=start, maxfev=20000)
        lo, (hi, k, m) = floor, params
    fit = SigmoidFit(float(lo), float(hi), float(k), float(m), 0.0)
    fit.r2 = r_squared(y, np.array([fit.accuracy(v) for v in x]))
    return fit


def predict_accuracy(nll_fit: NllFit, sigmoid: SigmoidFit, budget: float) -> float:
    return sigmoid.accuracy(nll_fit.nll(budget))
