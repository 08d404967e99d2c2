"""Learning from the policy's mistakes: a scripted model stands in for the policy; its
wrong answers become correction rows and preference pairs, its right ones are recorded
as dropped with their reason."""

from __future__ import annotations

import json
import random

from herd.core.protocols import SamplingParams
from herd.core.records import PreferenceRow, SFTRow
from herd.lib.chat.text_backend import TextChatMixin
from herd.plugins.math.config import MathSynthConfig
from herd.plugins.math.policy_config import MathPolicyConfig
from herd.plugins.math.policy_mistakes import chosen_problems
from herd.plugins.math.problems import generate, inject
from herd.plugins.math.synthesis import MathSynthesizer

BUDGET = 12


class ScriptedPolicy(TextChatMixin):
    """Answers each problem by its place among the asked ones: a wrong solution (one
    injected error), the right one, an empty answer, or nothing at all."""

    def __init__(self, problems, kinds):
        self.by_question = {p.question: (p, kind) for p, kind in zip(problems, kinds)}
        self.params: list[SamplingParams] = []

    def generate(self, prompts, params):
        self.params.append(params)
        out = []
        for prompt in prompts:
            problem, kind = next(v for q, v in self.by_question.items() if q in prompt)
            text = {"wrong": inject(problem, random.Random(1)).trace, "right": problem.trace, "empty": ""}.get(kind)
            out.append([] if kind == "none" else [text] * params.n)
        return out


def _setup(make_services, kinds):
    cfg = MathSynthConfig(mistakes=0.0, code_share=0.0, policy_mistakes=len(kinds), policy_samples=2,
                          policy=MathPolicyConfig(enabled=False))  # only the mistakes part asks the policy
    asked = chosen_problems(generate(BUDGET, cfg.seed, "train"), cfg)
    policy = ScriptedPolicy(asked, kinds)
    return cfg, asked, policy, MathSynthesizer(cfg, make_services(generator=policy))


def test_wrong_answers_become_corrections_and_pairs(tmp_path, make_services):
    cfg, asked, policy, synth = _setup(make_services, ["wrong", "right", "wrong", "empty", "none"])
    rows = list(synth.synthesize(BUDGET, tmp_path / "w"))
    corrections = [r for r in rows if isinstance(r, SFTRow) and r.source == "math_policy_mistakes"]
    pairs = [r for r in rows if isinstance(r, PreferenceRow) and r.id.endswith("-policy-pair")]
    assert [r.id for r in corrections] == [f"{asked[0].id}-policy-mistake", f"{asked[2].id}-policy-mistake"]
    for row, problem in zip(corrections, [asked[0], asked[2]]):
        wrong = inject(problem, random.Random(1)).trace
        prompt = row.messages[0].content
        flagged = row.metadata["first_wrong_step"]
        quoted = "\n".join(wrong.splitlines()[: flagged + 1])
        assert prompt.startswith(problem.question) and f"Wrong:\n{quoted}\nChecker: line" in prompt
        assert row.messages[1].content == problem.trace and row.metadata["reference"] == problem.answer
    assert [(p.responses[0][0].content, p.responses[1][0].content) for p in pairs] == [
        (asked[i].trace, inject(asked[i], random.Random(1)).trace) for i in (0, 2)]
    assert policy.params[0].n == 2 and policy.params[0].max_tokens == cfg.policy_max_tokens
    dropped = [json.loads(line) for line in (tmp_path / "w" / "math_dropped.jsonl").read_text().splitlines()]
    assert [(d["id"], d["reason"]) for d in dropped] == [
        (f"{asked[1].id}-policy", "policy_correct"), (f"{asked[3].id}-policy", "empty_sample"),
        (f"{asked[4].id}-policy", "no_reply")]
    counts = json.loads((tmp_path / "w" / "math.json").read_text())
    assert counts["policy_asked"] == 5 and counts["policy_mistakes"] == 2


def test_same_policy_same_rows_and_no_model_no_rows(tmp_path, make_services):
    kinds = ["wrong", "right", "wrong"]
    first = list(_setup(make_services, kinds)[3].synthesize(BUDGET, tmp_path / "a"))
    second = list(_setup(make_services, kinds)[3].synthesize(BUDGET, tmp_path / "b"))
    assert first == second
    cfg = MathSynthConfig(mistakes=0.0, code_share=0.0)
    rows = list(MathSynthesizer(cfg, make_services()).synthesize(BUDGET, tmp_path / "c"))
    assert not any(r.id.endswith(("-policy-mistake", "-policy-pair")) for r in rows)
    assert json.loads((tmp_path / "c" / "math.json").read_text())["policy_asked"] == 0
