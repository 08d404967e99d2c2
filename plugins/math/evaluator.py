"""The ``math`` evaluator (the evaluate stage and every post-training round): the plugin's
held-out problems answered by the model, pass@1 and maj@k by the answer verifier
(``evaluation.py``). Each problem's answers and verdicts go to ``math_results.json``."""

from __future__ import annotations

from pathlib import Path

from herd.core.atomic import write_json
from herd.core.errors import ConfigError
from herd.core.services import Services
from herd.plugins.math.config import MathEvalConfig
from herd.plugins.math.evaluation import evaluate, held_out


class MathEvaluator:
    def __init__(self, cfg: MathEvalConfig | None = None, services: Services | None = None):
        if services is None:
            raise ConfigError("evaluator 'math' needs services (the stage's Services) to build its generator")
        self.cfg = cfg or MathEvalConfig()
        self.services = services

    def evaluate(self, model_dir: Path, workdir: Path) -> dict[str, float]:
        generator = self.services.generator_for(Path(model_dir), self.cfg.generator)
        evaluation = evaluate(generator, held_out(self.cfg), self.cfg)
        workdir.mkdir(parents=True, exist_ok=True)
        write_json(workdir / "math_results.json", evaluation.to_dict())
        skipped = len(evaluation.results) - len(evaluation.scored)
        if skipped:
            self.services.log.warning("math: %d of %d held-out problems do not fit the model's context (skipped)",
                                      skipped, len(evaluation.results))
        return evaluation.metrics()
