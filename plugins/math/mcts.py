"""MCTS for prompts no policy sample solves (docs/recipe.md section 6), guided by the step
reward model.

A node is a partial solution (its lines); expanding it samples ``children`` next lines
from the policy (one ``generate`` call, cut at the newline). A new node's value is the
PRM's score of its last line; a node whose line states the answer (``####``) or that is
``depth`` lines deep is a leaf, and its value is the verifier's reward instead (1 when the
answer verifier accepts it and the step checker finds no wrong line, else 0). Values are
backed up to the root; selection follows UCT (mean value plus ``c * sqrt(ln N / (1 + n))``,
an unvisited child's PRM score standing for its mean). The search stops at the first
verified leaf, after ``nodes`` nodes, at ``deadline``, or when nothing is left to expand.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from herd.core.protocols import Generator, SamplingParams
from herd.plugins.math.step_labels import continuation_prompt
from herd.plugins.math.steps import check_solution
from herd.plugins.math.verifier import AnswerVerifier

# (prompt, lines) -> one score per line, in [0, 1]; empty when it cannot score them.
StepScorer = Callable[[str, Sequence[str]], list[float]]


@dataclass
class Node:
    lines: tuple[str, ...]
    prior: float
    parent: "Node | None" = None
    children: list["Node"] = field(default_factory=list)
    visits: int = 0
    value_sum: float = 0.0
    leaf: bool = False
    # Expanded and no new line came back: nothing more to try below it.
    dead: bool = False

    def mean(self) -> float:
        return self.value_sum / self.visits if self.visits else self.prior

    def open(self) -> bool:
        return not self.leaf and not self.dead


@dataclass(frozen=True)
class SearchBudget:
    nodes: int
    children: int
    depth: int
    line_tokens: int
    temperature: float
    c: float


@dataclass(frozen=True)
class SearchResult:
    """``stopped``: "solved", "nodes" (the node budget), "time" or "exhausted"."""

    problem_id: str
    solved: bool
    solution: tuple[str, ...] | None
    nodes: int
    expansions: int
    stopped: str


def search(problem_id: str, prompt: str, reference: str, generator: Generator, scorer: StepScorer | None,
           verifier: AnswerVerifier, budget: SearchBudget, seed: int, deadline: float) -> SearchResult:
    root = Node((), 0.0)
    nodes = expansions = 0
    while True:
        if nodes >= budget.nodes:
            return SearchResult(problem_id, False, None, nodes, expansions, "nodes")
        if time.monotonic() >= deadline:
            return SearchResult(problem_id, False, None, nodes, expansions, "time")
        node = _select(root, budget.c)
        if node is None:
            return SearchResult(problem_id, False, None, nodes, expansions, "exhausted")
        params = SamplingParams(temperature=budget.temperature, max_tokens=budget.line_tokens, n=budget.children,
                                stop=["\n"], seed=seed + expansions)
        completions = generator.generate([continuation_prompt(prompt, node.lines)], params)
        expansions += 1
        lines = []
        for text in completions[0] if completions else []:
            line = text.strip()
            if line and line not in lines and all(line != child.lines[-1] for child in node.children):
                lines.append(line)
        lines = lines[: budget.nodes - nodes]
        if not lines:
            node.dead = True
            _backup(node, 0.0)
            continue
        for line in lines:
            child_lines = (*node.lines, line)
            child = Node(child_lines, 0.0, parent=node)
            node.children.append(child)
            nodes += 1
            if line.startswith("####") or len(child_lines) >= budget.depth:
                child.leaf = True
                text = "\n".join(child_lines)
                solved = verifier.verify(reference, text).correct and check_solution(list(child_lines)).first_wrong_step is None
                child.prior = 1.0 if solved else 0.0
                _backup(child, child.prior)
                if solved:
                    return SearchResult(problem_id, True, child_lines, nodes, expansions, "solved")
                continue
            scores = scorer(prompt, child_lines) if scorer is not None else []
            child.prior = scores[-1] if scores else 0.5
            _backup(child, child.prior)


def _select(root: Node, c: float) -> Node | None:
    """The node to expand: down the tree by UCT among open subtrees, to a node not yet
    expanded; None when every node is a leaf or dead."""
    node = root
    while node.children:
        candidates = [child for child in node.children if _has_open(child)]
        if not candidates:
            # Every child below is closed; expanding this node again may still sample a
            # new line, unless it has already been tried and found nothing new.
            return node if node.open() else None
        total = max(1, sum(child.visits for child in node.children))
        node = max(candidates, key=lambda ch: ch.mean() + c * math.sqrt(math.log(total + 1) / (1 + ch.visits)))
    return node if node.open() else None


def _has_open(node: Node) -> bool:
    return node.open() or any(_has_open(child) for child in node.children)


def _backup(node: Node | None, value: float) -> None:
    while node is not None:
        node.visits += 1
        node.value_sum += value
        node = node.parent
