"""Math accuracy of a model (issue 17, ``eval-math`` and the ``math`` evaluator): held-out
templated problems (the ``eval`` split, which no synthesizer seed reaches), pass@1 from
one greedy answer per problem and maj@k from ``k`` sampled ones (the most common final
answer, equal answers grouped by the verifier), both judged by the answer verifier.

A problem whose prompt does not fit the model's context (the backend answers it with
nothing) is skipped with that reason and left out of both accuracies; the skipped count
is reported beside them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage
from herd.plugins.math.config import MathEvalConfig
from herd.plugins.math.problems import Problem, generate
from herd.plugins.math.verifier import AnswerVerifier

NO_FIT = "no reply: the prompt does not fit the model's context"


@dataclass
class ProblemResult:
    id: str
    family: str
    question: str
    reference: str
    greedy: str = ""
    greedy_answer: str | None = None
    greedy_correct: bool = False
    samples: list[str] = field(default_factory=list)
    majority_answer: str | None = None
    majority_correct: bool = False
    skipped: str | None = None


@dataclass
class MathEvaluation:
    results: list[ProblemResult]
    samples: int

    @property
    def scored(self) -> list[ProblemResult]:
        return [r for r in self.results if r.skipped is None]

    def metrics(self) -> dict[str, float]:
        scored = self.scored
        share = (lambda n: n / len(scored)) if scored else (lambda n: 0.0)
        return {
            "math.pass@1": share(sum(r.greedy_correct for r in scored)),
            "math.maj@k": share(sum(r.majority_correct for r in scored)),
            "math.k": float(self.samples),
            "math.problems": float(len(scored)),
            "math.skipped": float(len(self.results) - len(scored)),
        }

    def to_dict(self) -> dict:
        return {"metrics": self.metrics(), "results": [asdict(r) for r in self.results]}


def held_out(cfg: MathEvalConfig) -> list[Problem]:
    return generate(cfg.problems, cfg.seed, "eval")


def evaluate(generator: Generator, problems: list[Problem], cfg: MathEvalConfig) -> MathEvaluation:
    verifier = AnswerVerifier(cfg.timeout_s)
    conversations = [[ChatMessage("user", p.prompt)] for p in problems]
    greedy = generator.chat(conversations, SamplingParams(temperature=0.0, max_tokens=cfg.max_tokens, n=1, seed=0))
    sampled = generator.chat(conversations, SamplingParams(temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                                                           n=cfg.samples, seed=cfg.seed))
    results = []
    for problem, first, many in zip(problems, greedy, sampled):
        result = ProblemResult(problem.id, problem.family, problem.question, problem.answer)
        results.append(result)
        if not first or not many:
            result.skipped = NO_FIT
            continue
        result.greedy = first[0].message.content
        verdict = verifier.verify(problem.answer, result.greedy)
        result.greedy_answer, result.greedy_correct = verdict.extracted, verdict.correct
        result.samples = [reply.message.content for reply in many]
        result.majority_answer = majority(result.samples, verifier)
        if result.majority_answer is not None:
            result.majority_correct = verifier.compare(problem.answer, result.majority_answer).correct
    return MathEvaluation(results, cfg.samples)


def majority(responses: list[str], verifier: AnswerVerifier) -> str | None:
    """The final answer most responses give (equal values grouped, so ``0.5`` and ``1/2``
    vote together); ties go to the answer given first. Responses without one do not vote."""
    from herd.plugins.math.extract import extract

    groups: list[list[str]] = []
    for response in responses:
        answer = extract(response)
        if answer is None:
            continue
        group = next((g for g in groups if verifier.compare(g[0], answer).correct), None)
        if group is None:
            groups.append([answer])
        else:
            group.append(answer)
    if not groups:
        return None
    return max(groups, key=len)[0]  # max keeps the first of equal lengths
