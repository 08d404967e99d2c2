"""How a round samples: from the policy or a capability's expert, under the capability's
system prompt, K rollouts per prompt, judged by the verifiers and the reward model."""

from __future__ import annotations

from dataclasses import dataclass

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.judging import Judged, RewardSource, VerdictSource, judge
from herd.plugins.posttrain.round_state import Ledger
from herd.plugins.posttrain.rollouts import Environments, Prompt, rollouts


@dataclass
class Sampler:
    policy: Generator
    experts: dict[str, Generator]  # capability -> its expert ([posttrain] expert_generators)
    environments: Environments
    cfg: PosttrainConfig

    def generator_of(self, prompt: Prompt) -> Generator:
        return self.experts.get(prompt.capability, self.policy)

    def steer(self, prompt: Prompt) -> list[ChatMessage]:
        """The per-capability system prompt (docs/recipe.md section 5: it may steer tone, style or
        format) is added for sampling only; the SFT row keeps the original prompt."""
        system = self.cfg.system_prompts.get(prompt.capability)
        if not system or (prompt.messages and prompt.messages[0].role == "system"):
            return prompt.messages
        return [ChatMessage("system", system)] + prompt.messages

    def params(self, seed: int) -> SamplingParams:
        cfg = self.cfg
        return SamplingParams(temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_new_tokens,
                              n=cfg.samples_per_prompt, seed=seed)


def sample_and_judge(prompts: list[Prompt], sampler: Sampler, scorer: RewardSource, verifiers: VerdictSource,
                     ledger: Ledger, step: str, seed: int) -> list[Judged]:
    """K rollouts per prompt, scored whole; prompts without a usable rollout are dropped
    into the ledger (generation failures and empty turns, with their reason)."""
    sampled = rollouts(prompts, sampler.generator_of, sampler.environments, sampler.params(seed),
                       sampler.cfg.rollout_max_steps, sampler.steer,
                       lambda prompt_id, reason: ledger.drop(step, prompt_id, reason))
    return judge(sampled, scorer, verifiers)
