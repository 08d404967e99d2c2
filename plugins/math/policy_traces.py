"""Step-wise traces from the round's policy (docs/recipe.md section 6): rejection sampling
with the answer verifier and the step checker, Math-Shepherd step labels, an outcome and a
step reward model trained on them, traces filtered by both, and MCTS for the prompts no
sample solves. ``policy_rows`` is what the ``math`` synthesizer calls.

Nothing is lost: every sampled trace either becomes an SFT row or is listed in
``dropped`` with its reason; the counts and the reward models' held-out figures go to
``math_policy.json`` in the synthesizer's folder.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage, PreferenceRow, SFTRow
from herd.core.services import Services
from herd.lib.chat.checked import chat_checked
from herd.plugins.math.feedback import Dropped
from herd.plugins.math.mcts import SearchBudget, search
from herd.plugins.math.policy_config import MathPolicyConfig
from herd.plugins.math.problems import WorkedProblem
from herd.plugins.math.rm_fit import ModelReport, RewardModels, fit_reward_models
from herd.plugins.math.step_labels import Trace, label_steps, make_trace
from herd.plugins.math.verifier import AnswerVerifier

log = logging.getLogger(__name__)
CAPABILITY = "math"


@dataclass
class MctsReport:
    prompts: int = 0
    solved: int = 0
    nodes: int = 0
    expansions: int = 0
    stopped: dict[str, int] = field(default_factory=dict)


@dataclass
class PolicySummary:
    """What ``policy_rows`` did; ``skipped`` names why it did nothing (or "")."""

    skipped: str = ""
    prompts: int = 0
    traces: int = 0
    verified: int = 0
    passed: int = 0
    labelled: int = 0
    # Traces with no Monte-Carlo labels (past ``label_traces``, or a prefix the policy
    # could not continue): the RMs still score them, they only do not train on them.
    unlabelled: int = 0
    unsolved_prompts: int = 0
    rm_skipped: str = ""
    orm: ModelReport = field(default_factory=ModelReport)
    prm: ModelReport = field(default_factory=ModelReport)
    mcts: MctsReport = field(default_factory=MctsReport)
    sft_rows: int = 0
    mcts_rows: int = 0
    preference_rows: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class PolicyTraces:
    sft: list[SFTRow] = field(default_factory=list)
    preferences: list[PreferenceRow] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    summary: PolicySummary = field(default_factory=PolicySummary)


def policy_rows(problems: Sequence[WorkedProblem], services: Services, cfg: MathPolicyConfig, workdir: Path,
                seed: int) -> PolicyTraces:
    """Rows from the policy's own traces of ``problems`` (those with ``id`` and ``answer``:
    templated and mined problems). With no policy (``services.generator`` is None) nothing
    is sampled and ``summary.skipped`` says why."""
    start = time.monotonic()
    out = PolicyTraces()
    seed = seed * 1_000_003 + cfg.seed
    if not cfg.enabled:
        out.summary.skipped = "disabled ([synthesizers.math.policy] enabled = false)"
    elif services.generator is None:
        out.summary.skipped = "no policy: the synthesizer's services hold no generator"
    elif cfg.prompts == 0 or not problems:
        out.summary.skipped = "no prompts ([synthesizers.math.policy] prompts = 0 or no problems)"
    if out.summary.skipped:
        log.info("math policy traces skipped: %s", out.summary.skipped)
        return _finish(out, workdir, start)
    _run(out, list(problems)[: cfg.prompts], list(problems), services, cfg, seed)
    return _finish(out, workdir, start)


def _run(out: PolicyTraces, asked: list[WorkedProblem], pool: list[WorkedProblem], services: Services,
         cfg: MathPolicyConfig, seed: int) -> None:
    """Sample, label, train the RMs, filter, pair, search: each a step below."""
    generator, verifier, summary = services.generator, AnswerVerifier(), out.summary
    traces = _sample(out, asked, generator, verifier, cfg, seed)
    labelled, unlabelled = label_steps(traces[: cfg.label_traces], generator, verifier, rollouts=cfg.rollouts,
                                       temperature=cfg.temperature, max_tokens=cfg.max_tokens, seed=seed + 1)
    summary.labelled = len(labelled)
    summary.unlabelled = len(unlabelled) + len(traces[cfg.label_traces:])
    fit = fit_reward_models(labelled, pool, services.generator_dir, cfg, seed)
    summary.orm, summary.prm, summary.rm_skipped, models = fit.orm, fit.prm, fit.skipped, fit.models
    kept = _filter(out, traces, models, cfg)
    _pairs(out, kept, traces)
    solved = {t.problem_id for t in traces if t.correct}
    unsolved = [p for p in asked if p.id not in solved]
    summary.unsolved_prompts = len(unsolved)
    _mcts(out, unsolved, generator, models, verifier, cfg, seed)


def _sample(out: PolicyTraces, asked: list[WorkedProblem], generator, verifier: AnswerVerifier,
            cfg: MathPolicyConfig, seed: int) -> list[Trace]:
    """``samples`` traces per prompt from the policy, each judged by the verifier and the
    step checker (rejection sampling's verdicts; the filter acts on them)."""
    params = SamplingParams(temperature=cfg.temperature, max_tokens=cfg.max_tokens, n=cfg.samples, seed=seed)
    replies = chat_checked(generator, [[ChatMessage("user", p.prompt)] for p in asked], params)
    traces: list[Trace] = []
    for problem, samples in zip(asked, replies):
        if not samples:
            _drop(out, problem.id, "no_reply", "the prompt does not fit the policy's context")
        for k, reply in enumerate(samples):
            traces.append(make_trace(f"{problem.id}-policy-{k}", problem.id, problem.prompt, problem.answer,
                                     reply.message.content, verifier))
    summary = out.summary
    summary.prompts, summary.traces = len(asked), len(traces)
    summary.verified = sum(t.correct for t in traces)
    summary.passed = sum(t.passed for t in traces)
    return traces


def _filter(out: PolicyTraces, traces: list[Trace], models: "RewardModels | None",
            cfg: MathPolicyConfig) -> dict[str, Trace]:
    """The first trace of each prompt that passes the verifier, the step checker and both
    RMs' thresholds becomes an SFT row; every other trace is dropped with its reason."""
    kept: dict[str, Trace] = {}
    for trace in traces:
        reason = _rejection(trace, models, cfg)
        if reason is None and trace.problem_id in kept:
            reason = ("duplicate_prompt", f"a trace of {trace.problem_id} is already kept")
        if reason is not None:
            _drop(out, trace.id, *reason)
            continue
        kept[trace.problem_id] = trace
        out.sft.append(_row(trace, "math_policy"))
    return kept


def _rejection(trace: Trace, models: "RewardModels | None", cfg: MathPolicyConfig) -> tuple[str, str] | None:
    if not trace.correct:
        return "wrong_answer", _said(trace)
    if trace.first_wrong_step is not None:
        return "wrong_step", f"the step checker flags line {trace.first_wrong_step + 1}"
    if models is None:
        return None
    orm = models.orm.scores(trace.prompt, trace.lines)
    prm = models.prm.scores(trace.prompt, trace.lines)
    if not orm or not prm:
        return "too_long_to_score", f"longer than {models.orm.max_len} tokens"
    if orm[0] < cfg.orm_threshold:
        return "orm_below_threshold", f"ORM {orm[0]:.3f} < {cfg.orm_threshold}"
    if min(prm) < cfg.prm_threshold:
        return "prm_below_threshold", f"PRM {min(prm):.3f} at line {prm.index(min(prm)) + 1} < {cfg.prm_threshold}"
    return None


def _pairs(out: PolicyTraces, kept: dict[str, Trace], traces: list[Trace]) -> None:
    """A preference row per prompt with a kept trace and a wrong one: kept > wrong."""
    wrong: dict[str, Trace] = {}
    for trace in traces:
        if not trace.correct:
            wrong.setdefault(trace.problem_id, trace)
    for problem_id, good in kept.items():
        bad = wrong.get(problem_id)
        if bad is None:
            continue
        # margin 2, "better" on the recipe's scale: the other one's answer is wrong.
        out.preferences.append(PreferenceRow(
            f"{problem_id}-policy-pair", [ChatMessage("user", good.prompt)],
            [[ChatMessage("assistant", good.text)], [ChatMessage("assistant", bad.text)]],
            margin=2, capability=CAPABILITY, metadata={"reference": good.reference}))


def _mcts(out: PolicyTraces, unsolved: list[WorkedProblem], generator, models: RewardModels | None,
          verifier: AnswerVerifier, cfg: MathPolicyConfig, seed: int) -> None:
    report = out.summary.mcts
    chosen = unsolved[: cfg.mcts_prompts]
    budget = SearchBudget(cfg.mcts_nodes, cfg.mcts_children, cfg.mcts_depth, cfg.mcts_line_tokens,
                          cfg.temperature, cfg.mcts_c)
    deadline = time.monotonic() + cfg.mcts_seconds
    scorer = models.prm.scores if models is not None else None
    for k, problem in enumerate(chosen):
        result = search(problem.id, problem.prompt, problem.answer, generator, scorer, verifier, budget,
                        seed + 1000 * (k + 1), deadline)
        report.prompts += 1
        report.nodes += result.nodes
        report.expansions += result.expansions
        report.stopped[result.stopped] = report.stopped.get(result.stopped, 0) + 1
        if result.solved and result.solution is not None:
            report.solved += 1
            trace = make_trace(f"{problem.id}-mcts", problem.id, problem.prompt, problem.answer,
                               "\n".join(result.solution), verifier, source="mcts")
            out.sft.append(_row(trace, "math_mcts"))
        if result.stopped == "time":
            # The guard, not the budget, ended the search: what it found now depends on speed.
            log.warning("math MCTS: %.0f s guard reached after %d of %d prompts; raise "
                        "[synthesizers.math.policy] mcts_seconds or lower mcts_nodes", cfg.mcts_seconds,
                        report.prompts, len(chosen))
            break


def _row(trace: Trace, source: str) -> SFTRow:
    return SFTRow(trace.id, [ChatMessage("user", trace.prompt), ChatMessage("assistant", trace.text)],
                  capability=CAPABILITY, category="policy", source=source, metadata={"reference": trace.reference})


def _said(trace: Trace) -> str:
    if not trace.lines:
        return "empty reply"
    if trace.extracted is None:
        return f"no final answer found; the reference is {trace.reference}"
    return f"the final answer {trace.extracted} is not {trace.reference}"


def _drop(out: PolicyTraces, item: str, reason: str, detail: str) -> None:
    out.dropped.append(Dropped(item, reason, detail))


def _finish(out: PolicyTraces, workdir: Path, start: float) -> PolicyTraces:
    summary = out.summary
    summary.sft_rows = sum(r.source == "math_policy" for r in out.sft)
    summary.mcts_rows = sum(r.source == "math_mcts" for r in out.sft)
    summary.preference_rows = len(out.preferences)
    for drop in out.dropped:
        summary.dropped_by_reason[drop.reason] = summary.dropped_by_reason.get(drop.reason, 0) + 1
    summary.seconds = round(time.monotonic() - start, 3)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "math_policy.json").write_text(json.dumps(asdict(summary), indent=2, sort_keys=True))
    return out
