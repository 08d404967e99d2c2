"""Step 5 of a round (and round 0): the built-in tasks (greedy, exact match) and the
registered evaluators on a model; the first instance of each task, with the model's answer,
is kept as the round's sample generations (``herd.core.samples``), so the report shows the
same prompts before and after post-training at no extra generation."""

from __future__ import annotations

from pathlib import Path

from herd.core.pipeline import StageContext
from herd.core.posttrain_summary import Evaluation
from herd.core.protocols import Generator, SamplingParams
from herd.core.services import Services
from herd.lib.chat.format import ChatFormat
from herd.core.records import ChatMessage
from herd.plugins.posttrain import tasks
from herd.plugins.posttrain.config import PosttrainConfig
from herd.core.samples import SAMPLES_FILE, ModelSamples, Sample, write_samples
from herd.core.services import generator_for_model

EVAL_SEED = 987_654  # built-in evaluation instances: a seed no synthesizer uses


def evaluate_builtin(generator: Generator, chat: ChatFormat, count: int) -> tuple[dict[str, float], list[Sample]]:
    """Greedy exact-match accuracy on held-out instances of the built-in tasks, and the
    samples: the first instance of each task (the same prompts for every model)."""
    insts = tasks.instances(count, EVAL_SEED)
    prompts = [chat.prompt_text([ChatMessage("user", i.prompt)]) for i in insts]
    outputs = generator.generate(prompts, SamplingParams(temperature=0.0, max_tokens=8, n=1))
    per_task: dict[str, list[float]] = {}
    samples: list[Sample] = []
    for inst, out in zip(insts, outputs):
        ok = bool(out) and tasks.is_correct(out[0], inst.answer)
        if inst.task not in per_task:
            samples.append(Sample(inst.prompt, out[0] if out else "", inst.answer))
        per_task.setdefault(inst.task, []).append(float(ok))
    scores = {f"general.{t}": sum(v) / len(v) for t, v in per_task.items()}
    scores["general.accuracy"] = sum(sum(v) for v in per_task.values()) / len(insts)
    return scores, samples


def evaluate_model(ctx: StageContext, cfg: PosttrainConfig, model_dir: Path, chat: ChatFormat,
                   out_dir: Path, round_no: int) -> Evaluation:
    """The model's evaluation; its samples go to ``out_dir/samples.json``."""
    generator = generator_for_model(ctx, "local", model_dir)
    scores, samples = evaluate_builtin(generator, chat, cfg.eval_prompts)
    write_samples(out_dir / SAMPLES_FILE, [ModelSamples(round_no, samples)])
    result = Evaluation(builtin=scores)
    if not cfg.run_evaluators:
        return result
    services = Services(ctx, generator=generator, generator_dir=model_dir)
    for name in cfg.evaluators or ctx.registry.names("evaluators"):
        work = out_dir / "evaluators" / name
        work.mkdir(parents=True, exist_ok=True)
        evaluator = ctx.build("evaluators", name, services)
        result.evaluators[name] = {k: float(v) for k, v in evaluator.evaluate(model_dir, work).items()}
    return result
