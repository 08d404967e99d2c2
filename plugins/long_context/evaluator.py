"""The ``long_context`` evaluator: RULER's NIAH and variable tracking on a model directory,
sized with the model's own tokenizer (``tokenizer.json`` in the directory)."""

from __future__ import annotations

from pathlib import Path

from herd.core.errors import ConfigError
from herd.core.services import Services
from herd.plugins.long_context.evaluation import evaluate_long_context
from herd.plugins.long_context.settings import LongContextEvalConfig
from herd.plugins.long_context.tasks import task_spec
from herd.plugins.long_context.token_counter import TokenCounter


class LongContextEvaluator:
    def __init__(self, cfg: LongContextEvalConfig | None = None, services: Services | None = None):
        if services is None:
            raise ConfigError("evaluator 'long_context' needs services (the stage's Services) to build its generator")
        self.cfg = cfg or LongContextEvalConfig()
        self.tasks = [task_spec(name) for name in self.cfg.tasks]  # an unknown name fails at start-up
        self.services = services

    def evaluate(self, model_dir: Path, workdir: Path) -> dict[str, float]:
        cfg = self.cfg
        counter = TokenCounter.load(Path(model_dir))
        generator = self.services.generator_for(Path(model_dir), cfg.generator)
        summary = evaluate_long_context(generator, counter, self.tasks, list(cfg.lengths), cfg.samples, cfg.seed,
                                        Path(workdir), model=str(model_dir))
        # Fractions (RULER's percentage / 100), like the other evaluators' accuracies.
        metrics = {f"long_context.{r.task}.{r.length}": r.score / 100 for r in summary.results}
        metrics["long_context.average"] = summary.average / 100
        return metrics
