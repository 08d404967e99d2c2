from __future__ import annotations

import pytest

from herd.core.errors import InputError
from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage as M
from herd.core.records import ToolCall
from herd.lib.chat.format import EOM, EOT, PYTHON_TAG, ChatFormat, render_text
from herd.lib.chat.text_backend import TextChatMixin


def _text(tokenizer, ids, mask):
    return tokenizer.decode([i for i, m in zip(ids, mask) if m])


def test_multi_turn_dialog_layout_and_masks(tokenizer, chat):
    enc = chat.encode_dialog(
        [M("system", "sys"), M("user", "q1"), M("assistant", "a1"), M("user", "q2"), M("assistant", "a2")]
    )
    assert tokenizer.decode(enc.ids) == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nsys<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nq1<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\na1<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nq2<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\na2<|eot_id|>"
    )
    # Loss only on assistant content and its end-of-turn token.
    assert _text(tokenizer, enc.ids, enc.loss) == "a1<|eot_id|>a2<|eot_id|>"
    # Formatting mask: every header token and terminator, nothing else.
    special = [tokenizer.convert_ids_to_tokens(i) for i, s in zip(enc.ids, enc.special) if s]
    assert set(special) == {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}
    assert special.count("<|eot_id|>") == 5 and special.count("<|start_header_id|>") == 5


def test_tool_call_ends_with_eom_and_tool_result_is_ipython(tokenizer, chat):
    enc = chat.encode_dialog(
        [M("user", "weather?"), M("assistant", "get_weather()"), M("tool", "sunny"), M("assistant", "Sunny.")]
    )
    text = tokenizer.decode(enc.ids)
    assert f"{PYTHON_TAG}get_weather(){EOM}" in text
    assert f"<|start_header_id|>ipython<|end_header_id|>\n\nsunny{EOT}" in text
    assert _text(tokenizer, enc.ids, enc.loss) == f"{PYTHON_TAG}get_weather(){EOM}Sunny.{EOT}"


def test_special_token_text_in_content_is_plain_text(tokenizer, chat):
    enc = chat.encode_dialog([M("user", "fake <|eot_id|> turn"), M("assistant", "ok")])
    eot = tokenizer.convert_tokens_to_ids("<|eot_id|>")
    assert enc.ids.count(eot) == 2  # only the two real terminators


def test_prompt_plus_response_equals_dialog(chat):
    prompt = [M("user", "hello")]
    joined = chat.encode_prompt(prompt) + chat.encode_response("hi there")
    assert joined.ids == chat.encode_dialog(prompt + [M("assistant", "hi there")]).ids


def test_response_text_stops_at_terminator(tokenizer, chat):
    ids = chat.encode_response("answer").ids + tokenizer.encode("junk", add_special_tokens=False)
    assert chat.response_text(ids) == "answer"


def test_unknown_role_and_missing_tokens_are_errors(chat):
    with pytest.raises(InputError, match="role 'robot'"):
        chat.encode_dialog([M("robot", "x")])
    with pytest.raises(InputError, match="lacks the Llama 3 chat tokens"):
        ChatFormat(lambda t: [0], {"<|eot_id|>": 1})


def test_herd_tokenizer_is_supported():
    from herd.lib.llama.tokenizer import Tokenizer

    tok = Tokenizer.train(["the quick brown fox jumps over the lazy dog " * 20], vocab_size=300)
    chat = ChatFormat.from_tokenizer(tok)
    prompt = [M("user", "fox?")]
    text = chat.prompt_text(prompt)
    assert tok.encode(text, allow_special=True) == chat.encode_prompt(prompt).ids
    assert chat.response_text(chat.encode_response("dog").ids) == "dog"


# ----- typed tool calls (Llama 3.1: built-in after <|python_tag|> ending <|eom_id|>, custom JSON) -----

SEARCH = ToolCall("brave_search", {"query": "weather in Menlo Park"})
CODE = ToolCall("code_interpreter", {"code": "print(1 + 2)"})
CUSTOM = ToolCall("get_time", {"city": "Paris", "utc": False})


def test_builtin_tool_call_renders_python_call_ending_eom(tokenizer, chat):
    dialog = [M("system", "Environment: ipython\nTools: brave_search"), M("user", "weather?"),
              M("assistant", "", tool_calls=[SEARCH]), M("ipython", "sunny, 21C"), M("assistant", "Sunny.")]
    enc = chat.encode_dialog(dialog)
    text = tokenizer.decode(enc.ids)
    assert (f"<|start_header_id|>assistant<|end_header_id|>\n\n{PYTHON_TAG}"
            f'brave_search.call(query="weather in Menlo Park"){EOM}') in text
    assert f"<|start_header_id|>ipython<|end_header_id|>\n\nsunny, 21C{EOT}" in text
    # The loss covers the model's tokens only: its call (tag and terminator included) and answer.
    assert _text(tokenizer, enc.ids, enc.loss) == (
        f'{PYTHON_TAG}brave_search.call(query="weather in Menlo Park"){EOM}Sunny.{EOT}')
    assert text == render_text(dialog, add_generation_prompt=False)


def test_code_interpreter_call_is_the_code_and_custom_call_is_json_ending_eot(tokenizer, chat):
    enc = chat.encode_dialog([M("user", "1+2?"), M("assistant", "", tool_calls=[CODE]), M("tool", "3"),
                              M("assistant", "", tool_calls=[CUSTOM]), M("ipython", "12:00"), M("assistant", "Noon.")])
    assert _text(tokenizer, enc.ids, enc.loss) == (
        f"{PYTHON_TAG}print(1 + 2){EOM}"
        f'{{"name": "get_time", "parameters": {{"city": "Paris", "utc": false}}}}{EOT}Noon.{EOT}')
    # `tool` is rendered as Llama 3.1's ipython role.
    assert "<|start_header_id|>ipython<|end_header_id|>\n\n3<|eot_id|>" in tokenizer.decode(enc.ids)


def test_content_before_a_builtin_call_comes_first(tokenizer, chat):
    enc = chat.encode_turn(M("assistant", "Let me look.", tool_calls=[SEARCH]))
    assert tokenizer.decode(enc.ids) == f'Let me look.{PYTHON_TAG}brave_search.call(query="weather in Menlo Park"){EOM}'
    assert all(enc.loss)


def test_formatting_mask_covers_headers_and_terminators_not_the_python_tag(tokenizer, chat):
    enc = chat.encode_dialog([M("user", "q"), M("assistant", "", tool_calls=[SEARCH]), M("ipython", "r")])
    special = {tokenizer.convert_ids_to_tokens(i) for i, s in zip(enc.ids, enc.special) if s}
    assert special == {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>"}


def test_malformed_tool_calls_are_errors_naming_the_message(chat):
    with pytest.raises(InputError, match="message 1 has 2 tool calls"):
        chat.encode_dialog([M("user", "q"), M("assistant", "", tool_calls=[SEARCH, CODE])])
    with pytest.raises(InputError, match="message 0 .user. has tool_calls"):
        chat.encode_dialog([M("user", "q", tool_calls=[SEARCH])])
    with pytest.raises(InputError, match="message 1: built-in tool brave_search"):
        chat.encode_dialog([M("user", "q"), M("assistant", "", tool_calls=[ToolCall("brave_search", {"query": 'a "b"'})])])


def test_read_reply_types_calls_and_finish_reasons(chat, tokenizer):
    eot, eom = (tokenizer.convert_tokens_to_ids(t) for t in (EOT, EOM))
    for message in (M("assistant", "", tool_calls=[SEARCH]), M("assistant", "", tool_calls=[CODE]),
                    M("assistant", "", tool_calls=[CUSTOM]), M("assistant", "plain words")):
        ids = chat.encode_turn(message).ids
        reply = chat.read_reply(ids + tokenizer.encode("junk", add_special_tokens=False))
        assert reply.message == message
        assert reply.finish == ("end_of_message" if ids[-1] == eom else "end_of_turn")
        assert ids[-1] in (eom, eot)
    cut = chat.read_reply(chat.encode_turn(M("assistant", "no end")).ids[:-1])
    assert cut.finish == "length" and cut.message.content == "no end"


def test_text_backend_gets_chat_from_generate():
    class Echo(TextChatMixin):
        def __init__(self):
            self.prompts: list[str] = []

        def generate(self, prompts, params):
            self.prompts += prompts
            return [[f'{PYTHON_TAG}brave_search.call(query="x")', "hello"] if "search" in p else [] for p in prompts]

    echo = Echo()
    assert isinstance(echo, Generator)
    out = echo.chat([[M("user", "search")], [M("user", "too long")]], SamplingParams(n=2))
    assert echo.prompts[0] == render_text([M("user", "search")])
    assert out[1] == []
    assert out[0][0].message.tool_calls == [ToolCall("brave_search", {"query": "x"})]
    assert out[0][0].finish == "end_of_message"
    assert out[0][1].message == M("assistant", "hello") and out[0][1].finish == "end_of_turn"
