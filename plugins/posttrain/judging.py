"""Judging rollouts: the capability verifiers and the reward model score each whole
trajectory (the prompt and every turn after it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from herd.core.errors import StageError
from herd.core.pipeline import StageContext
from herd.core.progress import track
from herd.core.records import ChatMessage, SFTRow, Trajectory
from herd.core.services import Services
from herd.plugins.posttrain.rollouts import Prompt, Sampled


class Verifiers:
    """The capability verifiers (judges of kind ``verifier``). A trajectory passes when
    every verifier that applies to it (a score that is not ``None``) gives a positive value."""

    def __init__(self, ctx: StageContext, names: list[str], services: Services):
        registry = ctx.registry
        wanted = names or [n for n in registry.names("judges") if registry.get("judges", n).options.get("kind") == "verifier"]
        for n in wanted:
            kind = registry.get("judges", n).options.get("kind")
            if kind != "verifier":
                raise StageError(f"[posttrain] verifiers names judge '{n}' of kind {kind!r}, not 'verifier'")
        self.names = wanted
        self.judges = [ctx.build("judges", n, services) for n in wanted]

    def verdicts(self, rows: list[SFTRow]) -> list[bool | None]:
        """``True``/``False`` per row, ``None`` where no verifier applies."""
        verdicts: list[bool | None] = [None] * len(rows)
        for judge in self.judges:
            for i, scores in enumerate(judge.score(rows)):
                for s in scores:
                    rows[i].scores[f"{s.judge}.{s.signal}"] = s.value if s.value is not None else float("nan")
                    if s.value is None:
                        continue
                    ok = s.value > 0
                    verdicts[i] = ok if verdicts[i] is None else (verdicts[i] and ok)
        return verdicts


class VerdictSource(Protocol):
    def verdicts(self, rows: list[SFTRow]) -> list[bool | None]: ...


class RewardSource(Protocol):
    def score(self, prompt_messages: Sequence[ChatMessage], responses: Sequence[list[ChatMessage]]) -> list[float]: ...


# Verified before unverified before failed; a rollout cut at the step cap after them.
_VERDICT_RANK = {True: 2, None: 1, False: 0}


@dataclass
class Judged:
    prompt: Prompt
    trajectories: list[Trajectory]
    rewards: list[float]
    verdicts: list[bool | None]

    def ranked(self) -> list[int]:
        """Trajectory indices best first: by verdict, then finished before cut at the step
        cap, then by reward."""
        return sorted(range(len(self.trajectories)),
                      key=lambda i: (_VERDICT_RANK[self.verdicts[i]], self.trajectories[i].finish != "step_cap",
                                     self.rewards[i]),
                      reverse=True)


def judge(sampled: list[Sampled], scorer: RewardSource, verifiers: VerdictSource) -> list[Judged]:
    out = []
    for s in track(sampled, "judging rollouts", total=len(sampled)):
        rows = [s.prompt.as_row(t.turns) for t in s.trajectories]
        rewards = scorer.score(s.prompt.messages, [t.turns for t in s.trajectories])
        out.append(Judged(s.prompt, s.trajectories, rewards, verifiers.verdicts(rows)))
    return out
