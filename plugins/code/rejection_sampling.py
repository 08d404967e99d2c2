"""Rejection sampling for code prompts (docs/recipe.md section 6, synthetic data 4).

Each prompt (a human-eval style problem) is sampled ``samples_per_prompt`` times under one
of the code-specific system prompts (readability, documentation, thoroughness, in turn),
and every sample is judged by the ``code_quality`` judge: correctness by the problem's
tests in the sandbox, style by the static rubric. The best sample that is correct and at
least ``min_style`` stylish is kept. Hard prompts, where no sample passes, are not
dropped: the best failing answer goes back to the generator with the judge's review
(the failing test and the style issues) for up to ``max_revisions`` turns, as the recipe
revises the responses of its most challenging prompts until the judge accepts them. Only
prompts that never pass are dropped, each with its last review.

The SFT row keeps the plain request: the system prompt steers sampling only. A kept
answer with a failing sample next to it also gives a preference row (margin 3).
The judge's tests travel in the row's ``metadata["code_tests"]``, so post-training's own
rejection sampling can verify later samples of the same prompt.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage, PreferenceRow, SFTRow, text_response
from herd.core.services import Services
from herd.lib.chat.checked import generate_checked
from herd.plugins.code import prompts
from herd.plugins.code.humaneval import Problem, read_problems
from herd.plugins.code.judge import CODE_TESTS, CodeJudge, Verdict
from herd.plugins.code.services import sampling_generator
from herd.plugins.code.settings import TRAIN_PROBLEMS, CodeJudgeConfig, CodeRejectionSamplingConfig

# Sampling and judging are batched, so progress is a line per batch and revision turn.
log = logging.getLogger("herd.code.rejection_sampling")

NAME = "code_rejection_sampling"


@dataclass
class Attempt:
    answer: str
    verdict: Verdict

    def accepted(self, min_style: float) -> bool:
        style = self.verdict.style.score if self.verdict.style else 0.0
        return self.verdict.correct == 1.0 and style >= min_style

    def rank(self) -> tuple[float, float]:
        return (self.verdict.correct or 0.0, self.verdict.style.score if self.verdict.style else 0.0)


@dataclass
class CodePrompt:
    problem: Problem
    system_name: str
    request: str
    attempts: list[Attempt] = field(default_factory=list)
    kept: Attempt | None = None
    outcome: str = ""  # "first_pass", "revised" or "unsolved"
    turns: int = 0

    def row(self, answer: str) -> SFTRow:
        return SFTRow(
            id=f"{NAME}-{self.problem.task_id}",
            messages=[ChatMessage("user", self.request), ChatMessage("assistant", answer.strip())],
            capability="code", category="rejection_sampling", language="python", source=NAME,
            metadata={CODE_TESTS: {"prompt": self.problem.prompt, "test": self.problem.test,
                                   "entry_point": self.problem.entry_point},
                      "system_prompt": self.system_name, "outcome": self.outcome, "turns": self.turns},
        )


class CodeRejectionSampling:
    """Samples ``services.generator`` (or the run's code expert, see ``sampling_generator``);
    the judge runs the samples in ``services.open_sandbox()``."""

    def __init__(self, cfg: CodeRejectionSamplingConfig | None, services: Services, judge: CodeJudge | None = None):
        self.cfg = cfg or CodeRejectionSamplingConfig()
        self.services = services
        self.judge = judge
        self.counts: dict[str, int | str] = {}

    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow | PreferenceRow]:
        cfg = self.cfg
        generator, which = sampling_generator(self.services, cfg.generator)
        judge = self.judge or CodeJudge(self._judge_config(), self.services)
        items = self._prompts(budget)
        params = SamplingParams(temperature=cfg.temperature, max_tokens=cfg.max_tokens, n=cfg.samples_per_prompt,
                                seed=cfg.seed)
        log.info("code rejection sampling: %d prompts x %d samples with %s", len(items), cfg.samples_per_prompt, which)
        outputs = _generate(generator, [self._sampling_text(p) for p in items], params)
        flat = [(p, a) for p, answers in zip(items, outputs) for a in answers]
        log.info("code rejection sampling: judging %d samples", len(flat))
        for (item, answer), verdict in zip(flat, judge.verdicts([item.row(a) for item, a in flat])):
            item.attempts.append(Attempt(answer, verdict))
        for item in items:
            item.turns = 1
            passing = [a for a in item.attempts if a.accepted(cfg.min_style)]
            if passing:
                item.kept, item.outcome = max(passing, key=Attempt.rank), "first_pass"
        self._revise([p for p in items if p.kept is None], generator, judge)
        self._record(items, which, workdir)
        for item in items:
            if item.kept is None:
                continue
            yield item.row(item.kept.answer)
            failing = [a for a in item.attempts if not a.accepted(cfg.min_style) and a.answer.strip()]
            if failing:
                worst = min(failing, key=Attempt.rank)
                yield PreferenceRow(
                    id=f"{NAME}-{item.problem.task_id}-pref",
                    prompt=[ChatMessage("user", item.request)],
                    responses=[text_response(item.kept.answer.strip()), text_response(worst.answer.strip())],
                    margin=3, capability="code",
                    metadata={"source": NAME, "rejected_because": worst.verdict.feedback()[:500]},
                )

    # -- hard prompts ------------------------------------------------------------------------
    def _revise(self, hard: list[CodePrompt], generator, judge: CodeJudge) -> None:
        params = SamplingParams(temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens, n=1,
                                seed=self.cfg.seed + 1)
        for turn in range(self.cfg.max_revisions):
            if not hard:
                return
            asks = []
            for item in hard:
                best = max(item.attempts, key=Attempt.rank)
                revise = prompts.REVISE_HARD.format(request=item.request, answer=best.answer.strip() or "(empty)",
                                                    feedback=best.verdict.feedback())
                asks.append(prompts.SAMPLE.format(system=prompts_for(self.cfg)[item.system_name], request=revise))
            log.info("code rejection sampling: revision turn %d of %d for %d prompts", turn + 1,
                     self.cfg.max_revisions, len(hard))
            answers = [out[0] if out else "" for out in _generate(generator, asks, params)]
            verdicts = judge.verdicts([item.row(a) for item, a in zip(hard, answers)])
            for item, answer, verdict in zip(hard, answers, verdicts):
                attempt = Attempt(answer, verdict)
                item.attempts.append(attempt)
                item.turns = turn + 2
                if attempt.accepted(self.cfg.min_style):
                    item.kept, item.outcome = attempt, "revised"
            hard = [item for item in hard if item.kept is None]
        for item in hard:
            item.outcome = "unsolved"

    # -- helpers -------------------------------------------------------------------------------
    def _prompts(self, budget: int) -> list[CodePrompt]:
        path = Path(self.cfg.problems) if self.cfg.problems else TRAIN_PROBLEMS
        problems = sorted(read_problems(path).problems.values(), key=lambda p: p.task_id)
        random.Random(self.cfg.seed).shuffle(problems)
        names = list(prompts_for(self.cfg))
        return [CodePrompt(p, names[i % len(names)], prompts.COMPLETE.format(prompt=p.prompt))
                for i, p in enumerate(problems[: max(0, budget)])]

    def _sampling_text(self, item: CodePrompt) -> str:
        return prompts.SAMPLE.format(system=prompts_for(self.cfg)[item.system_name], request=item.request)

    def _judge_config(self) -> CodeJudgeConfig:
        given = self.services.config.component("judges", "code_quality")
        return given or CodeJudgeConfig(timeout_s=self.cfg.timeout_s)

    def _record(self, items: list[CodePrompt], which: str, workdir: Path) -> None:
        samples = [a for item in items for a in item.attempts[: self.cfg.samples_per_prompt]]
        self.counts = {
            "generator": which,
            "prompts": len(items),
            "samples": len(samples),
            "samples_correct": sum(a.verdict.correct == 1.0 for a in samples),
            "first_pass": sum(i.outcome == "first_pass" for i in items),
            "revised": sum(i.outcome == "revised" for i in items),
            "unsolved": sum(i.outcome == "unsolved" for i in items),
        }
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / f"{NAME}.json").write_text(json.dumps(self.counts, indent=2, sort_keys=True) + "\n")
        with (workdir / f"{NAME}_dropped.jsonl").open("w", encoding="utf-8") as handle:
            for item in items:
                if item.outcome != "unsolved":
                    continue
                last = item.attempts[-1]
                handle.write(json.dumps({"task_id": item.problem.task_id, "reason": "unsolved_after_revisions",
                                         "turns": item.turns, "review": last.verdict.feedback(),
                                         "answer": last.answer}, ensure_ascii=False) + "\n")


def prompts_for(cfg: CodeRejectionSamplingConfig) -> dict[str, str]:
    return dict(cfg.system_prompts) or dict(prompts.SYSTEM_PROMPTS)


def _generate(generator, texts: list[str], params: SamplingParams) -> list[list[str]]:
    if not texts:
        return []
    return generate_checked(generator, texts, params)
