"""The exported tokenizer's chat template renders exactly what herd trains on: token for
token, ``apply_chat_template`` of transformers equals ``ChatFormat``'s encoding."""

from __future__ import annotations

import json

import pytest

from herd.core.records import ChatMessage as M
from herd.core.records import ToolCall
from herd.lib.chat.format import BEGIN_OF_TEXT, EOT
from herd.lib.chat.openai_wire import to_wire

SYSTEM = M("system", "Environment: ipython\nTools: brave_search, wolfram_alpha\n\nYou are helpful.")
CONVERSATIONS = {
    "system_user": [SYSTEM, M("user", "What is the weather like?")],
    "multi_turn": [M("user", "Hello there!"), M("assistant", "Hello! How can I help you?"),
                   M("user", "Say 21 degrees."), M("assistant", "It is 21 degrees.")],
    "builtin_call": [SYSTEM, M("user", "Weather in Menlo Park?"),
                     M("assistant", "", tool_calls=[ToolCall("brave_search", {"query": "Menlo Park weather"})]),
                     M("ipython", "sunny, 21 degrees"), M("assistant", "It is sunny.")],
    "wolfram_and_code": [M("user", "sum?"),
                         M("assistant", "", tool_calls=[ToolCall("wolfram_alpha", {"query": "sum 1..9"})]),
                         M("tool", "45"),
                         M("assistant", "", tool_calls=[ToolCall("code_interpreter", {"code": "print(sum(range(10)))"})]),
                         M("ipython", "45"), M("assistant", "45.")],
    "custom_call": [M("system", "You can call get_time."), M("user", "Time in Paris?"),
                    M("assistant", "", tool_calls=[ToolCall("get_time", {"city": "Paris", "utc": False,
                                                                         "zones": ["CET", "CEST"]})]),
                    M("tool", '{"time": "12:00"}'), M("assistant", "Noon.")],
    "raw_call": [M("user", "run it"), M("assistant", "print(1)"), M("ipython", "1"), M("assistant", "One.")],
    "unicode": [M("user", "Grüße, 你好 — ça va?"), M("assistant", "Très bien ✓")],
}


def _template_ids(tokenizer, messages, add_generation_prompt, **kwargs):
    return tokenizer.apply_chat_template(to_wire(messages, json_arguments=False), tokenize=True, return_dict=False,
                                         add_generation_prompt=add_generation_prompt, **kwargs)


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_apply_chat_template_equals_encode_dialog(tokenizer, chat, name):
    messages = CONVERSATIONS[name]
    assert _template_ids(tokenizer, messages, False) == chat.encode_dialog(messages).ids


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_generation_prompt_equals_encode_prompt(tokenizer, chat, name):
    messages = [m for m in CONVERSATIONS[name]]
    while messages[-1].role == "assistant":  # ask for the next assistant turn
        messages = messages[:-1]
    assert _template_ids(tokenizer, messages, True) == chat.encode_prompt(messages).ids


def test_template_text_equals_render_text(tokenizer):
    from herd.lib.chat.format import render_text

    for messages in CONVERSATIONS.values():
        text = tokenizer.apply_chat_template(to_wire(messages, json_arguments=False), tokenize=False)
        assert text == render_text(messages, add_generation_prompt=False)


def test_special_token_strings_in_content_stay_text_when_sanitized(tokenizer, chat):
    messages = [M("user", f"print the string {EOT} please"), M("assistant", f"{EOT} is the end-of-turn token")]
    ours = chat.encode_dialog(messages).ids
    assert _template_ids(tokenizer, messages, False, sanitize_control_tokens=True) == ours
    # The one documented difference: without sanitizing, transformers reads them as tokens.
    eot = tokenizer.convert_tokens_to_ids(EOT)
    assert _template_ids(tokenizer, messages, False).count(eot) == ours.count(eot) + 2


def test_tokenizer_config_carries_bos_and_the_template(exported_dir, tokenizer):
    config = json.loads((exported_dir / "tokenizer_config.json").read_text())
    assert config["bos_token"] == BEGIN_OF_TEXT and config["eos_token"] == EOT and config["chat_template"]
    bos = tokenizer.convert_tokens_to_ids(BEGIN_OF_TEXT)
    assert tokenizer("Hello")["input_ids"][0] == bos  # plain text gets BOS, as Llama 3.1's tokenizer does
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "Hello"}], tokenize=True, return_dict=False)
    assert ids.count(bos) == 1 and ids[0] == bos  # the template's BOS only, never two


def test_template_refuses_unknown_roles_and_several_calls(tokenizer):
    from jinja2.exceptions import TemplateError

    with pytest.raises(TemplateError, match="no role robot"):
        tokenizer.apply_chat_template([{"role": "robot", "content": "x"}], tokenize=False)
    calls = [ToolCall("brave_search", {"query": "a"}), ToolCall("brave_search", {"query": "b"})]
    with pytest.raises(TemplateError, match="one tool call per message"):
        tokenizer.apply_chat_template(to_wire([M("user", "q"), M("assistant", "", tool_calls=calls)],
                                              json_arguments=False), tokenize=False)


def test_content_starting_with_a_newline_is_the_other_documented_difference(tokenizer, chat):
    """herd tokenizes the header's blank line on its own (as Meta's reference does); the
    template's rendered string lets it merge with content that starts with a newline."""
    messages = [M("user", "\nthree")]
    ours = chat.encode_dialog(messages).ids
    theirs = _template_ids(tokenizer, messages, False)
    assert tokenizer.decode(theirs) == tokenizer.decode(ours)
    three_newlines, two, one = (tokenizer.convert_tokens_to_ids(t) for t in ("ĊĊĊ", "ĊĊ", "Ċ"))
    at = ours.index(two)
    assert ours[at:at + 2] == [two, one] and theirs == ours[:at] + [three_newlines] + ours[at + 2:]
