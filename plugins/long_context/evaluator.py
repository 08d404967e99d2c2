"""The ``long_context`` evaluator: RULER's NIAH and variable tracking on a model directory,
sized with the model's own tokenizer (``tokenizer.json`` in the directory).

The post-training check of the pretraining NIAH gate (``lib/training/niah.py``, docs/recipe.md
section 4.2): the same generator (``lib.long_context``), the same task (``niah_single_1``
among the defaults) and the same length rule (prompt plus answer budget within [0.97 N, N]
tokens of the model's tokenizer), at the configured lengths and at the model's context
(``at_context``). The gate forces the answer (a 16-token budget); here the model generates
it (RULER's 128 tokens) and RULER's ``string_match_all`` scores it."""

from __future__ import annotations

import json
from pathlib import Path

from herd.core.errors import ConfigError
from herd.core.services import Services
from herd.plugins.long_context.evaluation import evaluate_long_context
from herd.plugins.long_context.settings import LongContextEvalConfig
from herd.lib.long_context.tasks import task_spec
from herd.lib.long_context.token_counter import TokenCounter


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
        # A sample never exceeds the model's context; a task whose own template does not fit
        # there is skipped with its reason, not failed (the built-in tiny models have 256 tokens).
        context = model_context(Path(model_dir))
        lengths = {min(length, context or length) for length in cfg.lengths}
        if cfg.at_context and context:
            lengths.add(context)
        lengths = sorted(lengths)
        summary = evaluate_long_context(generator, counter, self.tasks, lengths, cfg.samples, cfg.seed,
                                        Path(workdir), model=str(model_dir), skip_unfit=True)
        for skip in summary.skipped:
            self.services.log.warning("long_context: %s at %d tokens skipped: %s", skip.task, skip.length, skip.reason)
        # Fractions (RULER's percentage / 100), like the other evaluators' accuracies.
        metrics = {f"long_context.{r.task}.{r.length}": r.score / 100 for r in summary.results}
        if summary.skipped:
            metrics["long_context.skipped"] = float(len(summary.skipped))
        if summary.results:
            metrics["long_context.average"] = summary.average / 100
        return metrics


def model_context(model_dir: Path) -> int | None:
    """The model's context (``max_position_embeddings`` of its ``config.json``); None for a
    directory without one (a served model, a tokenizer alone): lengths are then taken as given."""
    path = model_dir / "config.json"
    if not path.is_file():
        return None
    try:
        return int(json.loads(path.read_text())["max_position_embeddings"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"evaluator 'long_context': cannot read max_position_embeddings from {path} ({exc})") from None
