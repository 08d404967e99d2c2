"""Learning from the policy's own mistakes (docs/recipe.md section 6, "learning from
feedback and mistakes"): train problems are put to the model being trained; each answer
the answer verifier or the step checker rejects becomes a correction row (the wrong
answer and the checkers' feedback in the prompt, the problem's checked worked solution
as the reply) and a preference pair, corrected > wrong.

Everything the policy gets right, or does not answer, is recorded with its reason, so
the counts say how often the policy errs on the problems it was asked."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage, PreferenceRow, SFTRow
from herd.lib.chat.checked import chat_checked
from herd.plugins.math.config import MathSynthConfig
from herd.plugins.math.feedback import Dropped, correction_prompt, review
from herd.plugins.math.problems import Problem
from herd.plugins.math.verifier import AnswerVerifier

CAPABILITY = "math"
SOURCE = "math_policy_mistakes"


@dataclass
class PolicyMistakes:
    """The rows made, what was dropped, and how many problems were asked."""

    rows: list[SFTRow | PreferenceRow] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    asked: int = 0

    @property
    def corrected(self) -> int:
        return sum(isinstance(r, SFTRow) for r in self.rows)


def chosen_problems(problems: list[Problem], cfg: MathSynthConfig) -> list[Problem]:
    """``cfg.policy_mistakes`` of ``problems``, a seeded choice so every family can come up."""
    picked = list(problems)
    random.Random(f"herd.math.policy:{cfg.seed}").shuffle(picked)
    return picked[:cfg.policy_mistakes]


def policy_mistakes(generator: Generator, problems: list[Problem], cfg: MathSynthConfig,
                    verifier: AnswerVerifier, preferences: bool = True) -> PolicyMistakes:
    out = PolicyMistakes()
    asked = chosen_problems(problems, cfg)
    out.asked = len(asked)
    if not asked:
        return out
    params = SamplingParams(temperature=cfg.policy_temperature, max_tokens=cfg.policy_max_tokens,
                            n=cfg.policy_samples, seed=cfg.seed)
    replies = chat_checked(generator, [[ChatMessage("user", p.prompt)] for p in asked], params)
    for problem, samples in zip(asked, replies):
        row_id = f"{problem.id}-policy"
        if not samples:
            out.dropped.append(Dropped(row_id, "no_reply", "the policy gave no answer (prompt too long for it?)"))
            continue
        made = _rows(problem, [s.message.content for s in samples], verifier, preferences)
        if isinstance(made, Dropped):
            out.dropped.append(made)
        else:
            out.rows.extend(made)
    return out


def _rows(problem: Problem, answers: list[str], verifier: AnswerVerifier,
          preferences: bool) -> list[SFTRow | PreferenceRow] | Dropped:
    """The rows of the first wrong answer among ``answers``, or why there are none."""
    row_id = f"{problem.id}-policy"
    wrong = None
    for text in answers:
        if not text.strip():
            continue
        feedback = review(tuple(text.strip().splitlines()), problem.answer, verifier)
        if not feedback.passed:
            wrong = (text.strip(), feedback)
            break
    if wrong is None:
        empty = all(not t.strip() for t in answers)
        return Dropped(row_id, "empty_sample" if empty else "policy_correct",
                       f"{len(answers)} answer(s), none wrong by the answer verifier and step checker")
    if not review(problem.solution, problem.answer, verifier).passed:
        return Dropped(row_id, "correction_fails", "the corrected solution does not pass the checkers")
    text, feedback = wrong
    metadata = {"reference": problem.answer, "first_wrong_step": feedback.first_wrong_step,
                "feedback": list(feedback.findings)}
    rows: list[SFTRow | PreferenceRow] = [SFTRow(
        f"{row_id}-mistake", [ChatMessage("user", correction_prompt(problem.question, text, feedback)),
                              ChatMessage("assistant", problem.trace)],
        capability=CAPABILITY, category=problem.family, source=SOURCE, metadata=metadata)]
    if preferences:
        # margin 2, "better" on the recipe's scale, as for the injected mistakes: the
        # rejected answer is one the checkers found wrong.
        rows.append(PreferenceRow(f"{row_id}-pair", [ChatMessage("user", problem.prompt)],
                                  [[ChatMessage("assistant", problem.trace)], [ChatMessage("assistant", text)]],
                                  margin=2, capability=CAPABILITY, metadata=dict(metadata)))
    return rows
