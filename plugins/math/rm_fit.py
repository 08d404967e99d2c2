"""Training the outcome and step reward models on Monte-Carlo-labelled policy traces and
reference traces, and measuring them on held-out ones (docs/recipe.md section 6; the
models themselves are ``reward_models.PointwiseRM``)."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from herd.lib.posttraining.reward import stable_bucket
from herd.plugins.math.policy_config import MathPolicyConfig
from herd.plugins.math.problems import Problem, WorkedProblem, inject
from herd.plugins.math.reward_models import Example, PointwiseRM, accuracy, auc
from herd.plugins.math.step_labels import StepLabels
from herd.plugins.math.verifier import AnswerVerifier

log = logging.getLogger(__name__)


@dataclass
class ModelReport:
    """A reward model's training and held-out figures: ``heldout_auc`` of its trace score
    (the ORM's, or the PRM's lowest step score) against the verifier's verdicts;
    ``step_auc`` (PRM only) of step scores against the hard Monte-Carlo labels."""

    trained_on: int = 0
    too_long: int = 0
    loss_first: float | None = None
    loss_last: float | None = None
    heldout: int = 0
    heldout_auc: float | None = None
    heldout_accuracy: float | None = None
    step_auc: float | None = None
    # The same on held-out reference traces (templated solutions and their injected-error
    # versions): the trace score against the verifier's verdict, and (PRM) step scores
    # against "before the injected line".
    reference_heldout: int = 0
    reference_auc: float | None = None
    reference_step_auc: float | None = None


@dataclass
class RewardModels:
    orm: PointwiseRM
    prm: PointwiseRM


@dataclass
class RewardFit:
    """The trained models (None when ``skipped`` says why not) and their figures."""

    models: RewardModels | None = None
    orm: ModelReport = field(default_factory=ModelReport)
    prm: ModelReport = field(default_factory=ModelReport)
    skipped: str = ""


def fit_reward_models(labelled: list[StepLabels], pool: Sequence[WorkedProblem], policy_dir: Path | None,
                      cfg: MathPolicyConfig, seed: int) -> RewardFit:
    """The ORM and PRM trained from ``policy_dir``'s weights on the labelled traces outside
    the held-out share plus reference traces of ``pool``'s templated problems, and their
    held-out figures; ``skipped`` says why there are none."""
    fit = RewardFit()
    if policy_dir is None:
        fit.skipped = "the policy's model directory is unknown (services.generator_dir is None)"
        log.info("math reward models skipped: %s", fit.skipped)
        return fit
    from herd.lib.chat.format import ChatFormat
    from herd.lib.posttraining.models import load_tokenizer, quiet_transformers

    quiet_transformers()
    chat = ChatFormat.from_tokenizer(load_tokenizer(policy_dir))
    every = round(1 / cfg.heldout_fraction) if cfg.heldout_fraction > 0 else 0
    heldout = [x for x in labelled if every and stable_bucket(x.trace.id, every) == 0]
    train = [x for x in labelled if x not in heldout]
    templated = [p for p in pool if isinstance(p, Problem)]
    references = _reference_examples(templated[: cfg.reference_traces], seed)
    reference_heldout = _reference_examples(
        templated[cfg.reference_traces : cfg.reference_traces + cfg.reference_heldout], seed + 1)
    outcome = [Example(x.trace.id, x.trace.prompt, x.trace.lines, (float(x.trace.correct),)) for x in train]
    steps = [Example(x.trace.id, x.trace.prompt, x.trace.lines, x.hard if cfg.hard_labels else x.soft) for x in train]
    outcome += [Example(e.id, e.prompt, e.lines, (e.labels[-1],)) for e in references]
    steps += references
    if not outcome:
        fit.skipped = "no labelled traces to train on"
        return fit
    models = RewardModels(PointwiseRM(policy_dir, chat, "outcome", cfg.max_len, seed),
                          PointwiseRM(policy_dir, chat, "step", cfg.max_len, seed + 1))
    for report, model, examples in ((fit.orm, models.orm, outcome), (fit.prm, models.prm, steps)):
        stats = model.train(examples, lr=cfg.lr, epochs=cfg.epochs, batch_rows=cfg.batch_rows)
        report.trained_on, report.too_long = stats.examples, stats.too_long
        report.loss_first = stats.loss[0] if stats.loss else None
        report.loss_last = stats.loss[-1] if stats.loss else None
    _measure(fit, models, heldout, reference_heldout, cfg)
    fit.models = models
    return fit


def _reference_examples(problems: list[Problem], seed: int) -> list[Example]:
    """Checked worked solutions (every step right) and each one's injected-error version
    (right up to the injected line, wrong from it on), as step examples whose last label
    is the outcome."""
    rng = random.Random(f"herd.math.policy.references:{seed}")
    verifier = AnswerVerifier()
    examples = []
    for problem in problems:
        examples.append(Example(f"{problem.id}-reference", problem.prompt, problem.solution,
                                tuple(1.0 for _ in problem.solution)))
        mistake = inject(problem, rng)
        # A slip that cancels out (the answer still right) would make the last label a lie.
        if not verifier.verify(problem.answer, mistake.trace).correct:
            labels = tuple(1.0 if i < mistake.wrong_step else 0.0 for i in range(len(mistake.solution)))
            examples.append(Example(f"{problem.id}-reference-mistake", problem.prompt, mistake.solution, labels))
    return examples


@dataclass(frozen=True)
class Scored:
    """Held-out figures of both RMs on one set: trace scores against the verdicts, step
    scores against step labels."""

    traces: int
    orm_auc: float | None
    prm_auc: float | None
    orm_accuracy: float | None
    prm_accuracy: float | None
    step_auc: float | None


def _score_set(models: RewardModels, items: list[tuple[str, tuple[str, ...], bool, tuple[bool, ...]]],
               cfg: MathPolicyConfig) -> Scored:
    """``items``: (prompt, lines, verdict, per-step labels)."""
    verdicts, orm_scores, prm_scores, step_scores, step_labels = [], [], [], [], []
    for prompt, lines, verdict, labels in items:
        orm = models.orm.scores(prompt, lines)
        prm = models.prm.scores(prompt, lines)
        if not orm or not prm:
            continue
        verdicts.append(verdict)
        orm_scores.append(orm[0])
        prm_scores.append(min(prm))
        step_scores.extend(prm)
        step_labels.extend(labels)
    return Scored(len(verdicts), auc(orm_scores, verdicts), auc(prm_scores, verdicts),
                  accuracy(orm_scores, verdicts, cfg.orm_threshold), accuracy(prm_scores, verdicts, cfg.prm_threshold),
                  auc(step_scores, step_labels))


def _measure(fit: RewardFit, models: RewardModels, heldout: list[StepLabels], references: list[Example],
             cfg: MathPolicyConfig) -> None:
    policy = _score_set(models, [(x.trace.prompt, x.trace.lines, x.trace.correct, tuple(h == 1.0 for h in x.hard))
                                 for x in heldout], cfg)
    for report, trace_auc, trace_accuracy in ((fit.orm, policy.orm_auc, policy.orm_accuracy),
                                              (fit.prm, policy.prm_auc, policy.prm_accuracy)):
        report.heldout, report.heldout_auc, report.heldout_accuracy = policy.traces, trace_auc, trace_accuracy
    fit.prm.step_auc = policy.step_auc
    ref = _score_set(models, [(e.prompt, e.lines, e.labels[-1] == 1.0, tuple(y == 1.0 for y in e.labels))
                              for e in references], cfg)
    fit.orm.reference_heldout = fit.prm.reference_heldout = ref.traces
    fit.orm.reference_auc, fit.prm.reference_auc = ref.orm_auc, ref.prm_auc
    fit.prm.reference_step_auc = ref.step_auc
