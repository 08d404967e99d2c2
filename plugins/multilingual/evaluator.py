"""Per-language evaluation (issue 7, docs/recipe.md section 6): perplexity of a model on
held-out text in each language, and a per-language task score — the share of the model's
answers to held-out prompts that are in the prompt's language (and, where the prompt has a
reference answer, contain it).

The model directory must be a Hugging Face causal LM (``config.json`` and weights, as
``herd export-hf`` writes). Generations come from ``services.generator_for(model_dir,
cfg.generator)``: the stage's generator when it was loaded from that directory, else the
``generator`` backend pointed at it. Prompts are rendered in the
Llama 3 chat format when the model's tokenizer has its header tokens, so a post-trained
model is asked the way it was trained.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from herd.core.errors import ConfigError, InputError
from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage
from herd.core.services import Services
from herd.lib.chat.format import END_HEADER, EOT, START_HEADER, render_text
from herd.plugins.multilingual.config import MultilingualEvalConfig
from herd.lib.language.detect import LanguageIdentifier
from herd.plugins.multilingual.language_match import LanguageMatch
from herd.plugins.multilingual.prompts import contains_reference, prompt_row, read_prompts

HELDOUT = Path(__file__).resolve().parent / "data" / "heldout"
LLAMA3_HEADERS = (START_HEADER, END_HEADER, EOT)


def chat_prompt(prompt: str, tokenizer, chat_format: str) -> str:
    """``prompt`` as one user turn in the one Llama 3.1 chat format (``herd.lib.chat``):
    ``"auto"``: when the tokenizer knows the header tokens; ``"llama3"``: always;
    ``"none"``: the bare text."""
    if chat_format == "none":
        return prompt
    if chat_format == "auto":
        vocab = tokenizer.get_vocab()
        if not all(token in vocab for token in LLAMA3_HEADERS):
            return prompt
    return render_text([ChatMessage("user", prompt)], add_generation_prompt=True)


def heldout_text(directory: Path, language: str) -> str:
    path = directory / f"{language}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"held-out text for '{language}' cannot be read from {path}: {exc}") from None
    if not text.strip():
        raise InputError(f"held-out text {path} is empty")
    return text


def perplexity(model, tokenizer, text: str, context: int, device: str = "cpu") -> tuple[float, float]:
    """(perplexity per token, bits per UTF-8 byte) over non-overlapping windows of
    ``context`` tokens. Bits per byte compares across languages and tokenizers."""
    import torch

    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"][0]
    if ids.numel() < 2:
        raise InputError("held-out text is shorter than two tokens")
    total_nll, total_tokens = 0.0, 0
    with torch.inference_mode():
        for start in range(0, ids.numel() - 1, context):
            window = ids[start:start + context + 1].unsqueeze(0).to(device)
            if window.shape[1] < 2:
                break
            logits = model(window[:, :-1]).logits.float()
            nll = torch.nn.functional.cross_entropy(logits[0], window[0, 1:], reduction="sum")
            total_nll += float(nll)
            total_tokens += window.shape[1] - 1
    return math.exp(total_nll / total_tokens), total_nll / math.log(2) / len(text.encode("utf-8"))


def load_causal_lm(model_dir: Path, device: str):
    if not (model_dir / "config.json").exists():
        raise InputError(
            f"{model_dir} is not a Hugging Face model directory (no config.json); "
            "export the checkpoint with `herd export-hf` first"
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True).to(device).eval()
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load a causal LM and tokenizer from {model_dir}: {exc}") from None
    return model, tokenizer


class MultilingualEvaluator:
    def __init__(self, cfg: MultilingualEvalConfig | None = None, services: Services | None = None):
        self.cfg = cfg or MultilingualEvalConfig()
        if self.cfg.chat_format not in ("auto", "llama3", "none"):
            raise ConfigError(f"[evaluators.multilingual] chat_format must be auto, llama3 or none, got {self.cfg.chat_format!r}")
        if self.cfg.task_score and services is None:
            raise ConfigError("evaluator 'multilingual' needs a generation backend (task_score generates answers) "
                              "but was given no services to build one; or set [evaluators.multilingual] task_score = false")
        self.services = services
        self.verifier = LanguageMatch(identifier=LanguageIdentifier(self.cfg.lid))

    def evaluate(self, model_dir: Path, workdir: Path) -> dict[str, float]:
        metrics: dict[str, float] = {}
        model, tokenizer = load_causal_lm(Path(model_dir), self.cfg.device)
        directory = Path(self.cfg.heldout_dir) if self.cfg.heldout_dir else HELDOUT
        context = min(self.cfg.context, getattr(model.config, "max_position_embeddings", self.cfg.context) - 1)
        for language in self.cfg.languages:
            ppl, bpb = perplexity(model, tokenizer, heldout_text(directory, language), context, self.cfg.device)
            metrics[f"multilingual.{language}.perplexity"] = ppl
            metrics[f"multilingual.{language}.bits_per_byte"] = bpb
        details = []
        if self.cfg.task_score:
            generator = self.services.generator_for(Path(model_dir), self.cfg.generator)
            task, details = self._task_scores(generator, tokenizer)
            metrics.update(task)
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "multilingual_eval.json").write_text(
            json.dumps({"metrics": metrics, "generations": details}, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        return metrics

    def _task_scores(self, generator, tokenizer) -> tuple[dict[str, float], list[dict]]:
        wanted = set(self.cfg.languages)
        prompts = [p for p in read_prompts(self.cfg.prompts_path or None) if p.split == "eval" and p.language in wanted]
        params = SamplingParams(temperature=0.0, max_tokens=self.cfg.max_tokens)
        texts = [chat_prompt(p.prompt, tokenizer, self.cfg.chat_format) for p in prompts]
        answers = generator.generate(texts, params)
        rows = [prompt_row(p, a[0] if a else "") for p, a in zip(prompts, answers)]
        verdicts = self.verifier.score(rows)
        per_language: dict[str, list[float]] = {}
        per_reference: dict[str, list[float]] = {}
        details = []
        for prompt, row, scores in zip(prompts, rows, verdicts):
            passed = next(s for s in scores if s.signal == "pass")
            # An answer too short to identify, or in no known language, shows no language: a miss.
            match = 1.0 if passed.value == 1.0 else 0.0
            per_language.setdefault(prompt.language, []).append(match)
            answer = row.messages[-1].content
            if prompt.reference is not None:
                per_reference.setdefault(prompt.language, []).append(float(contains_reference(answer, prompt.reference)))
            details.append({"prompt_id": prompt.id, "language": prompt.language, "answer": answer,
                            "language_match": match, "reason": passed.reason})
        metrics = {f"multilingual.{lang}.language_match": sum(v) / len(v) for lang, v in per_language.items()}
        metrics.update({f"multilingual.{lang}.reference_match": sum(v) / len(v) for lang, v in per_reference.items()})
        return metrics, details
