"""The ``tool_use`` evaluator (the evaluate stage and every post-training round): held-out
BFCL-format questions (``eval_items``) answered greedily by the model and checked by the
BFCL rules of ``eval-tools``. Metrics: accuracy over all questions, on questions that need a
call and on those that need none; call validity (a response that should call does, and
parses); the share of malformed calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from herd.core.atomic import write_json
from herd.core.config import positive
from herd.core.errors import ConfigError
from herd.core.services import Services
from herd.plugins.tools.bfcl.categories import Expectation, expectation_of
from herd.plugins.tools.bfcl.generation import generate_responses
from herd.plugins.tools.bfcl.scoring import score
from herd.plugins.tools.eval_items import eval_items


@dataclass
class ToolsEvalConfig:
    questions: int = positive(24)
    max_tokens: int = positive(64)
    generator: str = "local"


class ToolUseEvaluator:
    def __init__(self, cfg: ToolsEvalConfig | None = None, services: Services | None = None):
        if services is None:
            raise ConfigError("evaluator 'tool_use' needs services (the stage's Services) to build its generator")
        self.cfg = cfg or ToolsEvalConfig()
        self.services = services

    def evaluate(self, model_dir: Path, workdir: Path) -> dict[str, float]:
        items = eval_items(self.cfg.questions)
        generator = self.services.generator_for(Path(model_dir), self.cfg.generator)
        generated = generate_responses(generator, items.questions, self.cfg.max_tokens)
        evaluation = score(items.questions, items.answers, generated.responses)
        workdir.mkdir(parents=True, exist_ok=True)
        write_json(workdir / "tool_use_verdicts.json", evaluation.to_dict())
        with (workdir / "tool_use_responses.jsonl").open("w", encoding="utf-8") as handle:
            for response in generated.responses.values():
                handle.write(json.dumps({"id": response.id, "response": response.text}, ensure_ascii=False) + "\n")
        if generated.unanswered:
            self.services.log.warning("tool_use: %d of %d questions do not fit the model's context (scored as no "
                                      "call)", len(generated.unanswered), len(items.questions))
        verdicts = evaluation.verdicts
        needs_call = [v for v in verdicts if expectation_of(v.category)[0] is Expectation.CALLS]
        needs_none = [v for v in verdicts if expectation_of(v.category)[0] is Expectation.NO_CALL]
        called_validly = [v for v in needs_call if not v.malformed and not v.reason.startswith("no call")]
        return {
            "tool_use.accuracy": sum(v.correct is True for v in verdicts) / len(verdicts),
            "tool_use.call_accuracy": _share(sum(v.correct is True for v in needs_call), len(needs_call)),
            "tool_use.no_call_accuracy": _share(sum(v.correct is True for v in needs_none), len(needs_none)),
            "tool_use.valid_calls": _share(len(called_validly), len(needs_call)),
            "tool_use.malformed": sum(v.malformed for v in verdicts) / len(verdicts),
            "tool_use.unanswered": float(len(generated.unanswered)),
        }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
