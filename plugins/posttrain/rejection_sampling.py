"""Rejection sampling (docs/recipe.md section 5): K rollouts per prompt from the latest policy
(or the capability's expert), the best trajectory kept as an SFT row when it passes the
verifiers."""

from __future__ import annotations

import random
from dataclasses import dataclass

from herd.core.records import REWARD_SCORE, SFTRow
from herd.plugins.posttrain.judging import Judged, RewardSource, VerdictSource
from herd.plugins.posttrain.round_state import Ledger
from herd.plugins.posttrain.rollouts import Prompt, prompts_from_sft
from herd.plugins.posttrain.sampling import Sampler, sample_and_judge


@dataclass
class PromptSplit:
    """The round's prompts, shuffled once: the first ``rs_prompts`` for rejection
    sampling, the next ``dpo_prompts`` for online DPO (the same ones again when the round
    has too few prompts for both)."""

    rejection_sampling: list[Prompt]
    dpo: list[Prompt]


def split_prompts(rows: list[SFTRow], rs_count: int, dpo_count: int, seed: int) -> PromptSplit:
    candidates = prompts_from_sft(rows)
    random.Random(seed).shuffle(candidates)
    dpo = candidates[rs_count : rs_count + dpo_count] or candidates[:dpo_count]
    return PromptSplit(candidates[:rs_count], dpo)


@dataclass
class RejectionSampled:
    rows: list[SFTRow]
    judged: list[Judged]

    @property
    def best_verified(self) -> int:
        return sum(1 for j in self.judged if j.verdicts[j.ranked()[0]] is True)

    @property
    def multi_turn(self) -> int:
        """Sampled trajectories in which an environment answered the model."""
        return sum(1 for j in self.judged for t in j.trajectories if any(m.role != "assistant" for m in t.turns))


def rejection_sampling_step(prompts: list[Prompt], sampler: Sampler, scorer: RewardSource, verifiers: VerdictSource,
                            ledger: Ledger, round_no: int, seed: int) -> RejectionSampled:
    judged = sample_and_judge(prompts, sampler, scorer, verifiers, ledger, "rejection_sampling", seed)
    return RejectionSampled(rejection_sample(judged, ledger, round_no), judged)


def rejection_sample(judged: list[Judged], ledger: Ledger, round_no: int) -> list[SFTRow]:
    """The best trajectory of each prompt as an SFT row (the prompt and every turn); prompts
    where a verifier applies and no trajectory passes are dropped (never trained on a wrong
    answer)."""
    rows = []
    for j in judged:
        best = j.ranked()[0]
        if j.verdicts[best] is False:
            ledger.drop("rejection_sampling", j.prompt.id, "no_sample_passed_verifiers")
            continue
        trajectory = j.trajectories[best]
        rows.append(
            SFTRow(
                id=f"{j.prompt.id}-rs{round_no}",
                messages=trajectory.messages,
                capability=j.prompt.capability,
                category=j.prompt.category,
                source="rejection_sampling",
                scores={REWARD_SCORE: j.rewards[best]},
                metadata={**j.prompt.metadata, "round": round_no, "verified": j.verdicts[best],
                          "finish": trajectory.finish},
            )
        )
    return rows
