"""Math-Shepherd step labels (docs/recipe.md section 6, "filtering wrong traces with
outcome and step-wise reward models"): a step's label is whether completions sampled from
the policy after it reach the right answer.

For each trace and each step (line) ``i``, ``rollouts`` completions continue the text of
lines ``0..i``; the *soft* label is the share that the answer verifier accepts, the
*hard* label whether any does. The last line states the answer, so its label is the
trace's own verdict: no completion is needed there. Every prefix of every trace goes to
the generator in one ``generate`` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage
from herd.lib.chat.checked import generate_checked
from herd.lib.chat.format import EOT, render_text
from herd.plugins.math.steps import check_solution
from herd.plugins.math.verifier import AnswerVerifier


@dataclass(frozen=True)
class Trace:
    """One worked solution of ``prompt`` (the user turn), split into non-empty ``lines``:
    the verifier's verdict on its final answer and the step checker's first wrong line."""

    id: str
    problem_id: str
    prompt: str
    reference: str
    lines: tuple[str, ...]
    correct: bool
    first_wrong_step: int | None
    # The final answer the verifier read (None: it found none).
    extracted: str | None = None
    source: str = "policy"

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def passed(self) -> bool:
        return self.correct and self.first_wrong_step is None


def make_trace(trace_id: str, problem_id: str, prompt: str, reference: str, text: str,
               verifier: AnswerVerifier, source: str = "policy") -> Trace:
    lines = tuple(line.strip() for line in text.split("\n") if line.strip())
    verdict = verifier.verify(reference, "\n".join(lines))
    return Trace(trace_id, problem_id, prompt, reference, lines, verdict.correct,
                 check_solution(list(lines)).first_wrong_step, verdict.extracted, source)


@dataclass(frozen=True)
class StepLabels:
    """``soft[i]``: share of completions after line ``i`` that reach the answer;
    ``hard[i]``: 1.0 when any does. ``rollouts``: completions sampled per step."""

    trace: Trace
    soft: tuple[float, ...]
    hard: tuple[float, ...]
    rollouts: int


@dataclass(frozen=True)
class Unlabelled:
    trace: Trace
    reason: str


def continuation_prompt(prompt: str, lines: Sequence[str]) -> str:
    """The text a completion of ``lines`` (the start of an assistant turn) continues from,
    in the Llama 3.1 chat format; each line ends with a newline, so the completion starts
    the next line."""
    head = render_text([ChatMessage("user", prompt)], add_generation_prompt=True)
    return head + "".join(f"{line}\n" for line in lines)


def label_steps(traces: Sequence[Trace], generator: Generator, verifier: AnswerVerifier, *, rollouts: int,
                temperature: float, max_tokens: int, seed: int) -> tuple[list[StepLabels], list[Unlabelled]]:
    """Monte-Carlo labels of every step of every trace, or why a trace has none (the
    generator gave no completions for one of its prefixes: the prompt is too long)."""
    asks: list[tuple[int, int]] = [(t, i) for t, trace in enumerate(traces) for i in range(len(trace.lines) - 1)]
    prompts = [continuation_prompt(traces[t].prompt, traces[t].lines[: i + 1]) for t, i in asks]
    params = SamplingParams(temperature=temperature, max_tokens=max_tokens, n=rollouts, stop=[EOT], seed=seed)
    outputs = generate_checked(generator, prompts, params) if prompts else []
    reached: dict[tuple[int, int], list[bool]] = {}
    for (t, i), completions in zip(asks, outputs):
        prefix = traces[t].lines[: i + 1]
        reached[(t, i)] = [verifier.verify(traces[t].reference, "\n".join([*prefix, c])).correct for c in completions]
    labelled, unlabelled = [], []
    for t, trace in enumerate(traces):
        if not trace.lines:
            unlabelled.append(Unlabelled(trace, "empty_trace"))
            continue
        per_step = [reached[(t, i)] for i in range(len(trace.lines) - 1)] + [[trace.correct]]
        if any(not hits for hits in per_step):
            unlabelled.append(Unlabelled(trace, "no_completions"))
            continue
        soft = tuple(sum(hits) / len(hits) for hits in per_step)
        hard = tuple(float(any(hits)) for hits in per_step)
        labelled.append(StepLabels(trace, soft, hard, rollouts))
    return labelled, unlabelled
