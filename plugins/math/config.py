"""Config dataclasses of the math plugin's judges."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MathAnswerConfig:
    """``[judges.math_answer]``."""

    # The row metadata key holding the reference answer.
    reference_key: str = "reference"
    # Bound on one row's comparison; sympy can hang on adversarial input.
    timeout_s: float = 2.0


@dataclass
class MathStepsConfig:
    """``[judges.math_steps]``."""

    # Rows of these capabilities are checked; others get no verdict (None), so that
    # "a = 3 + 4" in a code answer is never read as an arithmetic claim.
    capabilities: list[str] = field(default_factory=lambda: ["math"])
