"""Per-language perplexity and task score with a tiny Hugging Face model and a scripted
generation backend."""

import json
import math

import pytest

from herd.core.errors import ConfigError, InputError
from herd.plugins.multilingual.config import MultilingualEvalConfig
from herd.plugins.multilingual.evaluator import HELDOUT, MultilingualEvaluator, chat_prompt
from herd.plugins.multilingual.prompts import read_prompts


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-lm")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([p.read_text(encoding="utf-8") for p in HELDOUT.glob("*.txt")], vocab_size=400,
                            special_tokens=["<|endoftext|>"], show_progress=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=1, n_head=2))
    model.save_pretrained(directory)
    return directory


EVAL = {p.prompt: p for p in read_prompts() if p.split == "eval"}
ANSWERS = {
    "fr": "Le plus long fleuve de France est la Loire, qui traverse le pays.",
    "zh": "一年有十二个月，也就是 12 个月。",
    "de": "The Berlin Wall fell in 1989, which was a very important year.",  # the wrong language
}


def script(prompt, i):
    """Answers in the prompt's language for French and Chinese, in English for German."""
    asked = next(p for text, p in EVAL.items() if text in prompt)
    return ANSWERS[asked.language]


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
    references = lambda lang: [p for p in EVAL.values() if p.language == lang and p.reference]
    # "Loire" answers one French reference question of several; "12" one Chinese one.
    assert metrics["multilingual.fr.reference_match"] == 1 / len(references("fr"))
    assert metrics["multilingual.de.reference_match"] == 1 / len(references("de"))  # "1989", in the wrong language
    report = json.loads((tmp_path / "multilingual_eval.json").read_text(encoding="utf-8"))
    assert len(report["generations"]) == sum(p.language in ("fr", "de", "zh") for p in EVAL.values())
    assert all(params.temperature == 0.0 for _, params in gen.calls)
    assert all(prompt in EVAL for prompt, _ in gen.calls)  # no chat headers in this tokenizer: bare prompts


def test_eval_prompts_cover_each_language_with_several_prompts():
    by_language = {}
    for p in EVAL.values():
        by_language.setdefault(p.language, []).append(p)
    assert set(by_language) >= {"en", "fr", "de", "es", "zh"}
    assert all(len(group) >= 6 for group in by_language.values())


def test_chat_format_wraps_prompts_for_llama3_tokenizers():
    class Vocab:
        def __init__(self, tokens):
            self.tokens = tokens

        def get_vocab(self):
            return {t: i for i, t in enumerate(self.tokens)}

    llama = Vocab(["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "a"])
    wrapped = chat_prompt("Bonjour ?", llama, "auto")
    assert wrapped.startswith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nBonjour ?<|eot_id|>")
    assert wrapped.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert chat_prompt("Bonjour ?", Vocab(["a"]), "auto") == "Bonjour ?"
    assert chat_prompt("Bonjour ?", llama, "none") == "Bonjour ?"


def test_evaluate_stage_path_builds_the_generator_from_the_registry(tiny_model, tmp_path):
    """The ``evaluate`` stage hands its StageContext, which has no generator: the
    evaluator points the configured backend (here ``hf``) at the model directory."""
    import logging

    from herd.core.config import load_config
    from herd.core.pipeline import StageContext
    from herd.core.plugins import load_plugins

    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins.llama]\nmodule = "herd.plugins.llama"\nalways = true\n'
                        '[plugins.multilingual]\nmodule = "herd.plugins.multilingual"\nalways = false\n')
    loaded = load_plugins(["multilingual"], registry_path=registry, entry_points=False)
    config = load_config(loaded.registry, profile="quick", overrides=[
        'evaluators.multilingual.generator="hf"', 'evaluators.multilingual.languages=["fr", "zh"]',
        "evaluators.multilingual.max_tokens=4", "evaluators.multilingual.context=32"])
    ctx = StageContext("evaluate", config, tmp_path, {}, loaded.registry, loaded.active,
                       logging.getLogger("test"), False, tmp_path, "quick")
    metrics = ctx.build("evaluators", "multilingual", ctx).evaluate(tiny_model, tmp_path / "eval")
    # A random tiny model answers in no language: a measured 0, not an error.
    assert metrics["multilingual.fr.language_match"] == 0.0
    assert math.isfinite(metrics["multilingual.zh.perplexity"])


def test_evaluator_errors(tiny_model, tmp_path):
    with pytest.raises(ConfigError, match="generation backend"):
        MultilingualEvaluator(MultilingualEvalConfig(), None)
    with pytest.raises(ConfigError, match="chat_format"):
        MultilingualEvaluator(MultilingualEvalConfig(task_score=False, chat_format="chatml"))
    no_task = MultilingualEvaluator(MultilingualEvalConfig(languages=["xx"], task_score=False))
    with pytest.raises(InputError, match="'xx'"):
        no_task.evaluate(tiny_model, tmp_path)
    with pytest.raises(InputError, match="export-hf"):
        no_task.evaluate(tmp_path, tmp_path)
