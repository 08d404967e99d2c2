"""The one parser over every call format, with adversarial responses: a response that
starts a call and does not parse is malformed, never "no call"."""

from __future__ import annotations

import pytest

from herd.core.records import ChatMessage, ToolCall
from herd.lib.chat.text_backend import read_text_reply
from herd.plugins.tools.parsing import Calls, MalformedCall, NoCall, parse_message, parse_text

TOOLS = ("get_weather", "spotify_trending_songs", "calc")


@pytest.mark.parametrize("text, calls, fmt", [
    ('<|python_tag|>brave_search.call(query="weather in Menlo Park")',
     [ToolCall("brave_search", {"query": "weather in Menlo Park"})], "builtin"),
    ('<|python_tag|>wolfram_alpha.call(query="solve x^2 = \\"4\\"")',
     [ToolCall("wolfram_alpha", {"query": 'solve x^2 = "4"'})], "builtin"),
    ("<|python_tag|>import math\nprint(math.pi)", [ToolCall("code_interpreter", {"code": "import math\nprint(math.pi)"})],
     "code"),
    ('{"name": "get_weather", "parameters": {"city": "Paris"}}', [ToolCall("get_weather", {"city": "Paris"})], "json"),
    ('{"type": "function", "name": "get_weather", "arguments": {"city": "Oslo"}}',
     [ToolCall("get_weather", {"city": "Oslo"})], "json"),
    ('[{"name": "calc", "parameters": {"e": "1+1"}}, {"name": "calc", "parameters": {"e": "2"}}]',
     [ToolCall("calc", {"e": "1+1"}), ToolCall("calc", {"e": "2"})], "json"),
    ('{"name": "calc", "parameters": {"e": "1"}}; {"name": "get_weather", "parameters": {}}',
     [ToolCall("calc", {"e": "1"}), ToolCall("get_weather", {})], "json"),
    ('```json\n{"name": "calc", "parameters": {"e": "3"}}\n```', [ToolCall("calc", {"e": "3"})], "json"),
    ('<function=spotify_trending_songs>{"n": "5"}</function>', [ToolCall("spotify_trending_songs", {"n": "5"})],
     "function_tag"),
    ('<function=calc>{"e": "1"}</function>\n<function=calc>{"e": "2"}</function>',
     [ToolCall("calc", {"e": "1"}), ToolCall("calc", {"e": "2"})], "function_tag"),
    ('[get_weather(city="Paris", days=3), calc(e="x", exact=True, xs=[1, 2])]',
     [ToolCall("get_weather", {"city": "Paris", "days": 3}), ToolCall("calc", {"e": "x", "exact": True, "xs": [1, 2]})],
     "python_list"),
    ('[math.factorial(n=5)]', [ToolCall("math.factorial", {"n": 5})], "python_list"),
    ('get_weather(city="Rome")', [ToolCall("get_weather", {"city": "Rome"})], "python_list"),
    ('<|python_tag|>{"name": "calc", "parameters": {"e": "1"}}', [ToolCall("calc", {"e": "1"})], "json"),
])
def test_every_format_parses_to_typed_calls(text, calls, fmt):
    parsed = parse_text(text, TOOLS)
    assert isinstance(parsed, Calls), parsed
    assert parsed.calls == calls and parsed.format == fmt


@pytest.mark.parametrize("text, fmt, reason", [
    ('<|python_tag|>brave_search.call(query="unterminated', "builtin", "does not parse"),
    ('<|python_tag|>brave_search.call("positional")', "builtin", "positional"),
    ('<|python_tag|>wolfram_alpha.call(query=x)', "builtin", "not a literal"),
    ("<|python_tag|>", "builtin", "nothing after"),
    ('{"name": "calc", "parameters": {"e": "1"}', "json", "does not parse"),
    ('{"name": "calc", "parameters": "e=1"}', "json", "not valid JSON"),
    ('{"name": "calc", "parameters": {"e": "1"}} and then I will explain', "json", "text after"),
    ('{"name": 3, "parameters": {}}', "json", "no function name"),
    ('{"name": "calc", "parameters": {}, "extra": 1}', "json", "unknown keys"),
    ('<function=calc>{"e": 1</function>', "function_tag", "not valid JSON"),
    ('<function=calc>{"e": 1}', "function_tag", "not closed"),
    ('<function=calc>[1, 2]</function>', "function_tag", "must be a JSON object"),
    ('<function=bad name>{}</function>', "function_tag", "does not name"),
    ('<function=calc>{}</function> done', "function_tag", "text after"),
    ('[calc(e="1"), get_weather(city=', "python_list", "does not parse"),
    ('[calc(1)]', "python_list", "positional"),
    ('[calc(e=get_weather(city="x"))]', "python_list", "not a literal"),
    ('[calc(**{"e": 1})]', "python_list", "**kwargs"),
    ('[calc(e=1, e=2)]', "python_list", "given twice"),
    ('[calc(e=1), 5]', "python_list", "not a call"),
    ('[calc(e=__import__("os").system("x"))]', "python_list", "not a literal"),
])
def test_a_started_call_that_does_not_parse_is_malformed_with_its_reason(text, fmt, reason):
    parsed = parse_text(text, TOOLS)
    assert isinstance(parsed, MalformedCall), parsed
    assert parsed.format == fmt and reason in parsed.reason


@pytest.mark.parametrize("text", [
    "The weather in Paris is sunny.",
    'You could call {"name": "calc", "parameters": {}} but you need not.',  # prose first: an answer
    '{"name": "Ada Lovelace", "born": 1815}',  # a JSON answer, not a call
    "[1, 2, 3]",
    "print(x) is how you print in Python",
    "",
])
def test_answers_are_not_calls(text):
    assert isinstance(parse_text(text, TOOLS), NoCall)


def test_a_thousand_calls_are_one_clear_verdict():
    text = "[" + ", ".join(f'calc(e="{i}")' for i in range(1000)) + "]"
    parsed = parse_text(text, TOOLS, max_calls=64)
    assert isinstance(parsed, MalformedCall) and "1000 calls" in parsed.reason


def test_a_generated_turn_reads_the_same_as_its_text():
    # The chat format's reader turns an unparsable built-in call into code; the parser does not.
    broken = read_text_reply('<|python_tag|>brave_search.call(query="x').message
    assert broken.tool_calls[0].name == "code_interpreter"
    assert isinstance(parse_message(broken, TOOLS), MalformedCall)
    good = read_text_reply('Let me look.<|python_tag|>brave_search.call(query="x")').message
    parsed = parse_message(good, TOOLS)
    assert isinstance(parsed, Calls) and parsed.calls == [ToolCall("brave_search", {"query": "x"})]
    typed = ChatMessage("assistant", "", tool_calls=[ToolCall("calc", {"e": "1"})])
    assert parse_message(typed, TOOLS) == Calls([ToolCall("calc", {"e": "1"})], "json", "")
    code = read_text_reply("<|python_tag|>print(1)").message
    assert parse_message(code).calls == [ToolCall("code_interpreter", {"code": "print(1)"})]
