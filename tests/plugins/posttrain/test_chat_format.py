from __future__ import annotations

import pytest

from herd.core.errors import InputError
from herd.core.records import ChatMessage as M
from herd.lib.chat.format import EOM, EOT, PYTHON_TAG, ChatFormat


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


def test_encode_turns_continues_the_prompt_and_trains_only_the_model(chat):
    from herd.core.records import ChatMessage

    prompt = [ChatMessage("user", "What is 2+3?")]
    turns = [ChatMessage("assistant", "calc(2+3)"), ChatMessage("ipython", "5"), ChatMessage("assistant", "It is 5.")]
    head, tail = chat.encode_prompt(prompt), chat.encode_turns(prompt, turns)
    whole = chat.encode_dialog(prompt + turns)
    assert head.ids + tail.ids == whole.ids
    trained = chat._decode([i for i, keep in zip(tail.ids, tail.loss) if keep])
    assert "calc(2+3)" in trained and "It is 5." in trained and "5<" not in trained.replace("It is 5.", "")
    assert chat.encode_turns(prompt, turns[:1]).ids == chat.encode_response("calc(2+3)").ids
