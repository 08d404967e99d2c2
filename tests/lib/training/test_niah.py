"""The pretraining NIAH gate (docs/recipe.md 4.2) asks RULER's niah_single_1, built by
lib.long_context with herd's own tokenizer, and scores a trial by teacher-forced greedy
decoding of the value."""

import json
import random

import pytest
import torch

from herd.core.errors import ConfigError
from herd.lib.llama.model import Llama, LlamaConfig
from herd.lib.llama.tokenizer import Tokenizer
from herd.lib.long_context.generate import LOWER, generate_samples
from herd.lib.long_context.tasks import NIAH_NEEDLE, NOISE, task_spec
from herd.lib.long_context.token_counter import TokenCounter
from herd.lib.training.niah import (ANSWER_TOKENS, GATE_TASK, gate_cases, gate_min_length, gate_unfit, niah_accuracy,
                                    write_cases)

WORDS = ("the a llama herd walks over high plain river sun snow bread town library train station book quiet "
         "early morning green blue sky east west").split()


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    rng = random.Random(0)
    return Tokenizer.train([" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(200)], 320)


def test_cases_are_rulers_niah_single_1_within_the_length(tok):
    length = 600
    cases = gate_cases(tok, length, 4, seed=7)
    assert GATE_TASK.name == "niah_single_1" and GATE_TASK.settings == task_spec("niah_single_1").settings
    for case in cases:
        tokens = len(tok.encode(case.prompt))
        assert case.length == tokens + ANSWER_TOKENS and LOWER * length <= case.length <= length
        assert len(tok.encode(case.prompt, bos=True)) + len(tok.encode(case.answer)) <= length
        assert case.needle == NIAH_NEEDLE.format(type_needle_v="numbers", key=case.key, value=case.value)
        assert case.prompt.count(case.needle) == 1 and case.prompt.count(case.value) == 1
        assert case.answer == " " + case.value and case.value.isdigit() and len(case.value) == 7
        assert case.prompt.startswith("A special magic number is hidden within the following text.")
        assert case.prompt.endswith(f"The special magic number for {case.key} mentioned in the provided text is")
        haystack = case.prompt.replace(case.needle, "")
        assert NOISE in haystack and "special magic" not in haystack.split("\n", 1)[1].rsplit("\n", 1)[0]
    assert [c.depth for c in cases] == [0, 33, 67, 100]


def test_cases_depend_on_the_seed_only_and_come_from_their_own_stream(tok):
    assert gate_cases(tok, 500, 3, seed=1) == gate_cases(tok, 500, 3, seed=1)
    keys = {c.key for c in gate_cases(tok, 500, 3, seed=1)}
    assert keys.isdisjoint(c.key for c in gate_cases(tok, 500, 3, seed=2))
    # long-context generate / eval-long draw from the seed alone: the gate never shares their needles
    counter = TokenCounter.of(tok)
    ruler = generate_samples(task_spec("niah_single_1"), 500, 3, counter, seed=1)
    assert keys.isdisjoint(s.query for s in ruler)
    assert {c.value for c in gate_cases(tok, 500, 3, seed=1)}.isdisjoint(s.outputs[0] for s in ruler)


def test_herds_tokenizer_counts_as_its_encode(tok):
    counter = TokenCounter.of(tok)
    text = "One of the special magic numbers for llama-herd is: 1234567.\nThe grass is green."
    assert counter.count(text) == len(tok.encode(text))
    assert counter.count_batch([text, NOISE]) == [len(tok.encode(text)), len(tok.encode(NOISE))]
    with pytest.raises(ConfigError, match="cannot count tokens with a builtins.str"):
        TokenCounter.of("not a tokenizer")


def test_a_length_below_the_template_is_an_error_naming_the_minimum(tok):
    need = gate_min_length(tok)
    assert gate_unfit(tok, need) is None
    problem = gate_unfit(tok, need - 1)
    assert f"needs at least {need} tokens" in problem and f"a step of {need - 1} tokens" in problem
    with pytest.raises(ConfigError, match=f"needs at least {need} tokens"):
        gate_cases(tok, 128, 2, seed=0)
    with pytest.raises(ConfigError, match="trials is 0"):
        gate_cases(tok, need, 0, seed=0)
    assert len(gate_cases(tok, need, 2, seed=0)) == 2


class Recall(torch.nn.Module):
    """A model that continues each known prompt with its answer (or with a wrong last token
    where ``wrong``): it checks that the gate scores exactly the answer's positions."""

    def __init__(self, tok, cases, vocab: int, wrong: set[int] = frozenset()):
        super().__init__()
        self.vocab = vocab
        self.known = []
        for i, case in enumerate(cases):
            prompt, answer = tok.encode(case.prompt, bos=True), tok.encode(case.answer)
            if i in wrong:
                answer = answer[:-1] + [(answer[-1] + 1) % vocab]
            self.known.append((prompt, answer))

    def forward(self, ids):
        row = ids[0].tolist()
        logits = torch.zeros(1, len(row), self.vocab)
        for prompt, answer in self.known:
            if row[:len(prompt)] == prompt:
                for j, token in enumerate(answer):
                    if len(prompt) - 1 + j < len(row):
                        logits[0, len(prompt) - 1 + j, token] = 1.0
        return logits


def test_a_trial_passes_when_every_answer_token_is_the_argmax(tok):
    cases = gate_cases(tok, 500, 4, seed=3)
    assert niah_accuracy(Recall(tok, cases, tok.vocab_size), tok, 500, 4, seed=3) == 1.0
    assert niah_accuracy(Recall(tok, cases, tok.vocab_size, wrong={0, 2}), tok, 500, 4, seed=3) == 0.5
    # another seed asks other needles, which this model does not know
    assert niah_accuracy(Recall(tok, cases, tok.vocab_size), tok, 500, 4, seed=4) == 0.0


def test_an_untrained_llama_runs_at_the_steps_length_and_fails(tok):
    torch.manual_seed(0)
    cfg = LlamaConfig(dim=32, n_layers=1, n_heads=4, n_kv_heads=2, ffn_dim=64, vocab_size=tok.vocab_size,
                      max_seq_len=512)
    model = Llama(cfg).train()
    assert niah_accuracy(model, tok, 512, 2, seed=0) == 0.0
    assert model.training  # the gate leaves the model as it found it


def test_cases_are_written_for_inspection(tok, tmp_path):
    cases = gate_cases(tok, 500, 2, seed=0)
    path = tmp_path / "niah_cases.jsonl"
    write_cases(path, cases, "long_500", 10, 0)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["trial"] for r in rows] == [0, 1] and rows[0]["stage"] == "long_500" and rows[1]["step"] == 10
    assert rows[0]["prompt"] == cases[0].prompt and rows[1]["value"] == cases[1].value
