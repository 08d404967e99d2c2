"""Per-language perplexity and task score with a tiny Hugging Face model and a scripted
generation backend."""

import json
import math

import pytest

from herd.core.errors import ConfigError, InputError
from herd.plugins.multilingual.config import MultilingualEvalConfig
from herd.plugins.multilingual.evaluator import HELDOUT, MultilingualEvaluator


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-lm")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([p.read_text(encoding="utf-8") for p in HELDOUT.glob("*.txt")], vocab_size=400,
                            special_tokens=["<|endoftext|>"], show_progress=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>")
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=1, n_head=2))
    model.save_pretrained(directory)
    return directory


# Answers in the prompt's language for French and Chinese, in English for German prompts.
def script(prompt, i):
    if any(ch in prompt for ch in "年月用"):
        return "一年有十二个月，也就是 12 个月。"
    if "Mauer" in prompt or "Regenbogen" in prompt:
        return "The Berlin Wall fell in 1989, which was a very important year."
    if "fleuve" in prompt or "ciel" in prompt:
        return "Le plus long fleuve de France est la Loire, qui traverse le pays."
    return "Esta es una respuesta en español sobre la pregunta que hiciste."


def test_perplexity_and_language_match_per_language(tiny_model, scripted, tmp_path):
    gen = scripted(script)
    cfg = MultilingualEvalConfig(languages=["fr", "de", "zh"], context=32, max_tokens=16)
    metrics = MultilingualEvaluator(cfg, {"generator": gen}).evaluate(tiny_model, tmp_path)
    for lang in ("fr", "de", "zh"):
        ppl = metrics[f"multilingual.{lang}.perplexity"]
        assert math.isfinite(ppl) and ppl > 1.0
        assert metrics[f"multilingual.{lang}.bits_per_byte"] > 0
    assert metrics["multilingual.fr.language_match"] == 1.0
    assert metrics["multilingual.zh.language_match"] == 1.0
    assert metrics["multilingual.de.language_match"] == 0.0
    assert metrics["multilingual.fr.reference_match"] == 1.0  # "Loire"
    assert metrics["multilingual.de.reference_match"] == 1.0  # "1989", even in the wrong language
    report = json.loads((tmp_path / "multilingual_eval.json").read_text(encoding="utf-8"))
    assert len(report["generations"]) == 6
    assert all(params.temperature == 0.0 for _, params in gen.calls)


def test_evaluator_errors(tiny_model, tmp_path):
    with pytest.raises(ConfigError, match="generation backend"):
        MultilingualEvaluator(MultilingualEvalConfig(), None)
    no_task = MultilingualEvaluator(MultilingualEvalConfig(languages=["xx"], task_score=False))
    with pytest.raises(InputError, match="'xx'"):
        no_task.evaluate(tiny_model, tmp_path)
    with pytest.raises(InputError, match="export-hf"):
        no_task.evaluate(tmp_path, tmp_path)
