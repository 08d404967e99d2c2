"""The ``math`` synthesizer (docs/recipe.md section 6, math and reasoning): step-wise worked
solutions as SFT rows, each kept only when the answer verifier accepts its final answer
and the step checker finds no wrong line; and "learning from mistakes" rows (a wrong
solution with one injected arithmetic error, the checkers' feedback on it, the corrected
solution), with a preference row corrected > wrong for each.

Prompts: mined from the curated corpus (``mining.py``; when a curate stage is at hand)
first, then templated problems of the ``train`` split. Dropped items and their reasons go
to ``math_dropped.jsonl``, the counts to ``math.json``.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from herd.core.records import ChatMessage, PreferenceRow, SFTRow
from herd.core.services import Services
from herd.plugins.math.config import MathSynthConfig
from herd.plugins.math.feedback import Dropped, correction_prompt, review
from herd.plugins.math.interleaved import chosen, interleaved_rows
from herd.plugins.math.mining import MinedProblem, mine, read_documents
from herd.plugins.math.policy_mistakes import PolicyMistakes, policy_mistakes
from herd.plugins.math.policy_traces import PolicySummary, policy_rows
from herd.plugins.math.problems import Mistake, Problem, generate, inject
from herd.plugins.math.verifier import AnswerVerifier

CAPABILITY = "math"


class MathSynthesizer:
    def __init__(self, cfg: MathSynthConfig | None, services: Services):
        self.cfg = cfg or MathSynthConfig()
        self.services = services
        self.verifier = AnswerVerifier()

    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow | PreferenceRow]:
        budget = max(0, budget)
        mined = self._mined(min(budget, self.cfg.mined))
        problems = generate(budget - len(mined), self.cfg.seed, "train", self.cfg.families or None)
        rows: list[SFTRow | PreferenceRow] = []
        dropped: list[Dropped] = []
        for item in [*mined, *problems]:
            outcome = self.solution_row(item)
            (rows if isinstance(outcome, SFTRow) else dropped).append(outcome)
        rng = random.Random(f"herd.math.mistakes:{self.cfg.seed}")
        mistakes = 0
        for problem in problems:
            if rng.random() >= self.cfg.mistakes:
                continue
            made = self.mistake_rows(inject(problem, rng))
            if isinstance(made, Dropped):
                dropped.append(made)
                continue
            mistakes += 1
            rows.extend(made)
        code_rows, code_dropped = interleaved_rows(chosen(problems, self.cfg.code_share, self.cfg.seed),
                                                   self.services.open_sandbox, self.cfg.code_timeout_s, self.verifier,
                                                   self.services.log)
        rows.extend(code_rows)
        dropped.extend(code_dropped)
        mistaken = self.policy_mistakes(problems)
        rows.extend(mistaken.rows)
        dropped.extend(mistaken.dropped)
        policy = policy_rows([*mined, *problems], self.services, self.cfg.policy, workdir, self.cfg.seed)
        rows.extend([*policy.sft, *policy.preferences])
        dropped.extend(policy.dropped)
        self._write(workdir, len(mined), len(problems), mistakes, rows, dropped, policy.summary,
                    {"code": len(code_rows), "policy_asked": mistaken.asked, "policy_mistakes": mistaken.corrected})
        yield from rows

    def policy_mistakes(self, problems: list[Problem]) -> PolicyMistakes:
        """Correction rows from the policy's wrong answers, when a model is in hand."""
        if self.services.generator is None or self.cfg.policy_mistakes == 0:
            return PolicyMistakes()
        return policy_mistakes(self.services.generator, problems, self.cfg, self.verifier, self.cfg.preferences)

    def _mined(self, limit: int) -> list[MinedProblem]:
        folder = Path(self.cfg.corpus) if self.cfg.corpus else self.services.inputs.get("curate")
        if folder is None or limit == 0:
            return []
        return mine(read_documents(Path(folder) / "kept"), self.cfg.domain, limit, self.verifier)

    def solution_row(self, item: Problem | MinedProblem) -> SFTRow | Dropped:
        """The item's worked solution as an SFT row, or why it was dropped."""
        feedback = review(item.solution, item.answer, self.verifier)
        if not feedback.passed:
            return Dropped(item.id, "wrong_step" if feedback.first_wrong_step is not None else "wrong_answer",
                           "; ".join(feedback.findings))
        family = item.family if isinstance(item, Problem) else f"mined_{item.kind}"
        source = "math_templated" if isinstance(item, Problem) else "math_mined"
        metadata = {"reference": item.answer}
        if isinstance(item, MinedProblem):
            metadata["document"] = item.document
        return SFTRow(item.id, [ChatMessage("user", item.prompt), ChatMessage("assistant", item.trace)],
                      capability=CAPABILITY, category=family, source=source, metadata=metadata)

    def mistake_rows(self, mistake: Mistake) -> list[SFTRow | PreferenceRow] | Dropped:
        """The learning-from-mistakes rows of one injected error, or why there are none:
        the checkers must flag the wrong solution at the injected line and pass the
        corrected one."""
        problem = mistake.problem
        row_id = f"{problem.id}-mistake"
        feedback = review(mistake.solution, problem.answer, self.verifier)
        if feedback.first_wrong_step != mistake.wrong_step:
            return Dropped(row_id, "error_not_caught",
                           f"injected at line {mistake.wrong_step + 1}, step checker says {feedback.first_wrong_step}")
        if not review(problem.solution, problem.answer, self.verifier).passed:
            return Dropped(row_id, "correction_fails", "the corrected solution does not pass the checkers")
        metadata = {"reference": problem.answer, "wrong_step": mistake.wrong_step, "wrong_answer": mistake.answer}
        rows: list[SFTRow | PreferenceRow] = [SFTRow(
            row_id, [ChatMessage("user", correction_prompt(problem.question, mistake.trace, feedback)),
                     ChatMessage("assistant", problem.trace)],
            capability=CAPABILITY, category=problem.family, source="math_mistakes", metadata=metadata)]
        if self.cfg.preferences:
            # margin 2, "better" on the recipe's scale: the wrong one has a checked error.
            rows.append(PreferenceRow(f"{row_id}-pair", [ChatMessage("user", problem.prompt)],
                                      [[ChatMessage("assistant", problem.trace)],
                                       [ChatMessage("assistant", mistake.trace)]],
                                      margin=2, capability=CAPABILITY, metadata=dict(metadata)))
        return rows

    @staticmethod
    def _write(workdir: Path, mined: int, problems: int, mistakes: int, rows: list, dropped: list[Dropped],
               policy: PolicySummary, more: dict[str, int]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        by_reason: dict[str, int] = {}
        for drop in dropped:
            by_reason[drop.reason] = by_reason.get(drop.reason, 0) + 1
        counts = {"mined": mined, "templated": problems, "mistakes": mistakes,
                  "sft_rows": sum(isinstance(r, SFTRow) for r in rows),
                  "preference_rows": sum(isinstance(r, PreferenceRow) for r in rows),
                  "dropped": len(dropped), "dropped_by_reason": by_reason, "policy": asdict(policy), **more}
        (workdir / "math.json").write_text(json.dumps(counts, indent=2, sort_keys=True))
        with (workdir / "math_dropped.jsonl").open("w", encoding="utf-8") as handle:
            for drop in dropped:
                handle.write(json.dumps(asdict(drop), ensure_ascii=False) + "\n")
