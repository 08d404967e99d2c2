"""``[synthesizers.math.policy]``: step-wise traces sampled from the round's policy,
Math-Shepherd step labels, the outcome and step reward models trained on them, filtering
by both, and MCTS for the prompts no sample solves (docs/recipe.md section 6). The
defaults keep a post-training round's share of this small (about 16 prompts x 4 samples,
2 rollouts per step, MCTS on 4 prompts x 24 nodes), so it fits the default profile."""

from __future__ import annotations

from dataclasses import dataclass

from herd.core.config import fraction, non_negative, positive


@dataclass
class MathPolicyConfig:
    # Off: the synthesizer writes only the templates' and mined passages' own solutions.
    enabled: bool = True
    seed: int = 0
    # Train-split problems whose prompts the policy is asked, and traces sampled per prompt.
    prompts: int = non_negative(16)
    samples: int = positive(4)
    temperature: float = non_negative(0.8)
    # Worked solutions are 3 short lines (docs/math.md): 96 tokens hold one.
    max_tokens: int = positive(96)
    # Math-Shepherd labels: completions sampled from each step prefix of a trace, and at
    # most how many traces are labelled (the rest are neither labelled nor filtered).
    rollouts: int = positive(2)
    label_traces: int = non_negative(64)
    # A step's hard label is 1 when any completion reaches the answer; the soft label
    # (the share that do) is what the step RM is trained on unless ``hard_labels``.
    hard_labels: bool = False
    # The reward models: start from the policy's weights, pointwise BCE; ``max_len`` is
    # capped by the policy's context.
    lr: float = positive(1e-3)
    epochs: int = positive(3)
    batch_rows: int = positive(8)
    max_len: int = positive(512)
    # Held-out share of labelled traces (by a stable hash of the trace id).
    heldout_fraction: float = fraction(0.25)
    # Templated worked solutions (positive, every step right) and their injected-error
    # versions (steps before the error right, from it on wrong) join the RMs' training
    # data: a weak policy's samples may be all wrong, and one-class data teaches nothing.
    reference_traces: int = non_negative(16)
    # Further templated problems (solution and injected-error version each) the RMs never
    # train on: a held-out measure that does not need the policy to solve anything.
    reference_heldout: int = non_negative(8)
    # A verified, step-checked trace becomes an SFT row only when the ORM's score and the
    # lowest PRM step score (both probabilities) are at least these.
    orm_threshold: float = fraction(0.5)
    prm_threshold: float = fraction(0.5)
    # MCTS on prompts no sample solved: at most this many prompts, nodes (lines) per prompt,
    # children sampled per expansion, lines per solution; and seconds in all, a guard against
    # a hang only: the node budget is what bounds a search, so that the rows do not depend on
    # the machine's speed or load (a search cut by the clock is logged as such).
    mcts_prompts: int = non_negative(4)
    mcts_nodes: int = positive(24)
    mcts_children: int = positive(2)
    mcts_depth: int = positive(6)
    mcts_line_tokens: int = positive(48)
    mcts_seconds: float = positive(300.0)
    # UCT's exploration constant.
    mcts_c: float = non_negative(1.0)
