"""The code_pass_at_k evaluator asks a chat model the way post-training teaches it (the
problem as a Llama 3 user turn) and reads the function back from any answer shape."""

from __future__ import annotations

import json
import re

import pytest

from herd.core.errors import ConfigError
from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage
from herd.plugins.code.answers import completion_from_answer, request
from herd.plugins.code.evaluator import PassAtKEvaluator, chat_renderer
from herd.plugins.code.settings import PassAtKConfig
from herd.lib.chat.text_backend import TextChatMixin

CHAT_TOKENS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
USER_TURN = re.compile(r"^<\|begin_of_text\|><\|start_header_id\|>user<\|end_header_id\|>\n\n(.*)<\|eot_id\|>"
                       r"<\|start_header_id\|>assistant<\|end_header_id\|>\n\n$", re.DOTALL)


def _model_dir(path, chat: bool = True):
    """A model directory whose tokenizer.json has (or lacks) the Llama 3 chat tokens."""
    from tokenizers import Tokenizer, models

    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "x": 1}, unk_token="[UNK]"))
    if chat:
        tokenizer.add_special_tokens(CHAT_TOKENS)
    path.mkdir(parents=True)
    tokenizer.save(str(path / "tokenizer.json"))
    return path


class ChatModel(TextChatMixin):
    """Answers add_N with a bare body, times_N with the whole function in a fenced block,
    minus_N with an unindented body; anything else wrongly. Records the prompts."""

    def __init__(self):
        self.prompts: list[str] = []
        self.params: list[SamplingParams] = []

    def generate(self, prompts, params):
        self.params.append(params)
        out = []
        for prompt in prompts:
            self.prompts.append(prompt)
            turn = USER_TURN.match(prompt)
            question = turn.group(1) if turn else ""
            name = re.match(r"def (\w+)\(", question)
            kind, _, n = (name.group(1) if name else "").rpartition("_")
            if kind == "add":
                answer = f"    return x + {n}\n"
            elif kind == "times":
                answer = f"Here it is:\n```python\ndef times_{n}(x):\n    return x * {n}\n```\nDone."
            elif kind == "minus":
                answer = f"return x - {n}"
            else:
                answer = "    return None\n"
            out.append([answer] * params.n)
        return out


def test_chat_answers_of_every_shape_are_evaluated(tmp_path, isolated_sandbox, make_services):
    model, model_dir = ChatModel(), _model_dir(tmp_path / "model")
    evaluator = PassAtKEvaluator(PassAtKConfig(timeout_s=5), make_services(model, isolated_sandbox, generator_dir=model_dir))
    metrics = evaluator.evaluate(model_dir, tmp_path / "eval")
    assert metrics["code.passed"] == 9  # add, times and minus with 3, 7 and 8
    assert metrics["code.pass@1"] == pytest.approx(9 / 26)
    # Every prompt is one user turn holding the problem's prompt, exactly as the SFT rows ask.
    assert all(USER_TURN.match(p) for p in model.prompts)
    assert any(USER_TURN.match(p).group(1) == request('def add_3(x):\n    """Return x plus 3."""\n')
               for p in model.prompts)
    assert model.params[0].stop == []  # the turn ends the answer; "\ndef " would cut a fenced one
    samples = [json.loads(line) for line in (tmp_path / "eval" / "code_samples.jsonl").read_text().splitlines()]
    times = next(s for s in samples if s["task_id"].endswith("/times_7"))
    assert times["answer"].startswith("Here it is") and "def times_7(x):" in times["completion"]
    record = json.loads((tmp_path / "eval" / "code_eval.json").read_text())
    assert record["prompt_format"] == "chat" and record["tasks"] == 26


def test_completion_format_asks_with_the_raw_prompt(tmp_path, isolated_sandbox, make_services):
    model, model_dir = ChatModel(), _model_dir(tmp_path / "model")
    evaluator = PassAtKEvaluator(PassAtKConfig(prompt_format="completion", timeout_s=5),
                                 make_services(model, isolated_sandbox, generator_dir=model_dir))
    metrics = evaluator.evaluate(model_dir, tmp_path / "eval")
    assert all(p.startswith("def ") for p in model.prompts) and "\ndef " in model.params[0].stop
    assert metrics["code.passed"] == 0  # this model only answers chat turns
    assert json.loads((tmp_path / "eval" / "code_eval.json").read_text())["prompt_format"] == "completion"


def test_auto_uses_chat_only_when_the_tokenizer_has_the_chat_tokens(tmp_path):
    assert chat_renderer(_model_dir(tmp_path / "plain", chat=False)) is None
    assert chat_renderer(tmp_path / "missing") is None
    render = chat_renderer(_model_dir(tmp_path / "chat"))
    assert USER_TURN.match(render([ChatMessage("user", "hi")])).group(1) == "hi"


def test_chat_without_chat_tokens_or_an_unknown_format_is_a_config_error(tmp_path, make_services):
    evaluator = PassAtKEvaluator(PassAtKConfig(prompt_format="chat"), make_services(ChatModel()))
    with pytest.raises(ConfigError, match="chat tokens"):
        evaluator.evaluate(_model_dir(tmp_path / "plain", chat=False), tmp_path / "eval")
    with pytest.raises(ConfigError, match="prompt_format"):
        PassAtKEvaluator(PassAtKConfig(prompt_format="chatml"), make_services())


PROMPT = 'def add_3(x):\n    """Return x plus 3."""\n'


@pytest.mark.parametrize("answer, completion", [
    ("    return x + 3\n", "    return x + 3\n"),
    ("return x + 3", "    return x + 3\n"),  # unindented body
    ("\n\n    return x + 3\n\ndef other():\n    pass\n", "    return x + 3\n"),  # leading blanks, trailing code
    ("```python\ndef add_3(x):\n    return x + 3\n```", "\n\ndef add_3(x):\n    return x + 3\n"),
    ("def add_3(x):\n    return x + 3", "\n\ndef add_3(x):\n    return x + 3\n"),
    ("```\n    return x + 3\n```", "    return x + 3\n"),
    ("", ""),
])
def test_completion_from_answer(answer, completion):
    assert completion_from_answer(PROMPT, "add_3", answer) == completion
    if completion:
        namespace: dict = {}
        exec(PROMPT + completion, namespace)
        assert namespace["add_3"](1) == 4


def test_whole_function_after_a_bare_signature_still_parses():
    completion = completion_from_answer("def f(x):\n", "f", "def f(x):\n    return x\n")
    namespace: dict = {}
    exec("def f(x):\n" + completion, namespace)
    assert namespace["f"](2) == 2
