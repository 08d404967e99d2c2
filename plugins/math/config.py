"""Config dataclasses of the math plugin's judges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from herd.core.config import fraction, non_negative, positive
from herd.plugins.math.policy_config import MathPolicyConfig


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


@dataclass
class MathSynthConfig:
    """``[synthesizers.math]``: templated problems (``plugins/math/problems.py``, the
    ``train`` split) and prompts mined from the curated corpus, as SFT rows whose worked
    solutions the answer verifier and the step checker pass; "learning from mistakes"
    rows for a share of them."""

    seed: int = 0
    # Problem families (arithmetic, rates, percentages, fractions, algebra,
    # combinatorics); empty: all of them.
    families: list[str] = field(default_factory=list)
    # Share of the templated problems that also give a learning-from-mistakes row (a wrong
    # solution, the checkers' feedback, the corrected solution).
    mistakes: float = fraction(0.25)
    # A preference row per mistake: the corrected solution over the wrong one.
    preferences: bool = True
    # A curate stage's folder whose kept/ documents are mined; "" = the curate stage the
    # running stage reads, if it reads one (else nothing is mined).
    corpus: str = ""
    # The domain label of the documents mined, and at most how many mined prompts a call uses.
    domain: str = "math_reasoning"
    mined: int = non_negative(64)
    # The policy's own traces, the ORM/PRM filter and MCTS (policy_config.py).
    policy: MathPolicyConfig = field(default_factory=MathPolicyConfig)
    # Share of the templated problems that also give a solution interleaving text and Python
    # (the program run in the sandbox, its output read back), and each program's time bound.
    code_share: float = fraction(0.25)
    code_timeout_s: float = positive(5.0)
    # Learning from the policy's own mistakes, when a model is in hand (post-training
    # rounds): this many train problems are put to it, ``policy_samples`` answers each; a
    # wrong one (answer verifier, step checker) becomes a correction row and a preference
    # pair. Small by default: on CPU each answer costs a generation.
    policy_mistakes: int = non_negative(8)
    policy_samples: int = positive(2)
    policy_temperature: float = non_negative(0.7)
    # Worked solutions are 3 short lines: 96 tokens hold one (as [evaluators.math] max_tokens).
    policy_max_tokens: int = positive(96)

    # The quick profile (tests, smoke runs) asks the policy little: every part runs, on a
    # few prompts; "full" uses more prompts and a deeper search.
    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"policy_mistakes": 2,
                  "policy": {"prompts": 4, "samples": 2, "label_traces": 8, "reference_traces": 4,
                             "reference_heldout": 4, "mcts_prompts": 1, "mcts_nodes": 6, "mcts_seconds": 120.0}},
        "full": {"policy_mistakes": 256,
                 "policy": {"prompts": 1024, "samples": 8, "rollouts": 8, "label_traces": 4096,
                            "mcts_prompts": 128, "mcts_nodes": 256, "mcts_seconds": 3600.0, "max_tokens": 1024}},
    }


@dataclass
class MathEvalConfig:
    """``[evaluators.math]``: held-out templated problems (the ``eval`` split, which no
    synthesizer seed reaches), pass@1 from a greedy answer and maj@k from ``samples``
    sampled ones, both judged by the answer verifier."""

    problems: int = positive(24)
    samples: int = positive(4)
    temperature: float = non_negative(0.7)
    # Worked solutions are 3 short lines: 96 tokens hold one.
    max_tokens: int = positive(96)
    generator: str = "local"
    seed: int = 0
    timeout_s: float = positive(2.0)


@dataclass
class MathPythonConfig:
    """``[environments.math_python]``: the rollout environment that runs a math solution's
    Python in the sandbox and answers with its output."""

    # Bound on one program (the sandbox kills it after this); a loop is reported, not waited for.
    timeout_s: float = positive(5.0)
    # Characters of output the model reads back; a flood is cut to its head.
    max_output_chars: int = positive(1000)
