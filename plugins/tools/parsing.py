"""One parser for every tool-call format a Llama model writes, returning typed calls.

The formats (issue 19; Llama 3.1's model card and the later Llama models' Python lists):

* a built-in call after ``<|python_tag|>``: ``brave_search.call(query="...")``; anything
  else after the tag that is not a call is code for ``code_interpreter``;
* JSON: ``{"name": ..., "parameters": {...}}`` (``"arguments"`` is read too), one object,
  several separated by ``;`` or new lines, or a JSON list of them;
* ``<function=name>{...}</function>``, one or several;
* a Python call list: ``[f(a=1), g(b="x")]`` (a bare ``f(a=1)`` only when ``f`` is a known
  tool, since prose can look like a call).

A response that *starts* a call (the tag, ``<function=``, a leading ``{"name"``, a leading
``[name(``) but does not parse is a ``MalformedCall`` with the reason, never ``NoCall``:
an evaluator must not mistake a broken call for abstention, and a rollout answers it with
the error so the trajectory shows it.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any, Collection

from herd.core.records import ChatMessage, ToolCall
from herd.lib.chat.format import PYTHON_TAG
from herd.lib.chat.tools import BUILTIN_TOOLS, CODE_INTERPRETER

# A response with more calls than this is refused as a whole (the sandbox and the
# evaluator see a clear verdict instead of a thousand programs).
MAX_CALLS = 64

FORMATS = ("builtin", "code", "json", "function_tag", "python_list")


@dataclass(frozen=True)
class NoCall:
    """The response calls no tool: ``content`` is the answer."""

    content: str


@dataclass(frozen=True)
class Calls:
    """The response calls ``calls`` (in order; several are parallel calls), written in
    ``format`` (one of ``FORMATS``); ``content`` is text the model wrote before them."""

    calls: list[ToolCall]
    format: str
    content: str = ""


@dataclass(frozen=True)
class MalformedCall:
    """The response starts a call in ``format`` that does not parse: ``reason`` says where."""

    reason: str
    format: str
    text: str = ""


Parsed = NoCall | Calls | MalformedCall

_FENCE = re.compile(r"^```[\w-]*\s*\n(?P<body>.*?)\n?```\s*$", re.S)
_JSON_CALL_START = re.compile(r'^\[?\s*\{\s*"(name|function|type|parameters|arguments)"\s*:')
_LIST_CALL_START = re.compile(r"^\[\s*[A-Za-z_][\w.]*\s*\(")
_FUNCTION_TAG = re.compile(r"<function=(?P<name>[^>]*)>(?P<body>.*?)</function>", re.S)
_BUILTIN_CALL_START = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*\.\s*call\s*\(")
_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.-]*$")


def parse_text(text: str, tools: Collection[str] = (), max_calls: int = MAX_CALLS) -> Parsed:
    """The calls in a raw model response (special tokens spelled out, as text backends and
    BFCL's response files hold them). ``tools``: the names the model was offered; only
    they make a bare ``f(a=1)`` a call, and they let ``<|python_tag|>f.call(...)`` call a
    custom tool."""
    if PYTHON_TAG in text:
        content, _, call_text = text.partition(PYTHON_TAG)
        return _limit(_after_tag(call_text, tools, content), max_calls)
    body = _unfence(text.strip())
    return _limit(_untagged(body, tools), max_calls)


def parse_message(message: ChatMessage, tools: Collection[str] = (), max_calls: int = MAX_CALLS) -> Parsed:
    """The calls of a generated assistant turn. A backend that parsed the call already
    (``ChatMessage.tool_calls``) is trusted for custom and built-in calls; a
    ``code_interpreter`` call is read again, because the chat format's reader turns an
    unparsable built-in call (``brave_search.call(query="x``) into code."""
    if not message.tool_calls:
        return parse_text(message.content, tools, max_calls)
    calls: list[ToolCall] = []
    for call in message.tool_calls:
        if call.name != CODE_INTERPRETER:
            calls.append(call)
            continue
        again = _after_tag(str(call.arguments.get("code", "")), tools, "")
        if isinstance(again, MalformedCall):
            return again
        calls.extend(again.calls if isinstance(again, Calls) else [call])
    fmt = "code" if all(c.name == CODE_INTERPRETER for c in calls) else "builtin"
    if any(c.name not in BUILTIN_TOOLS for c in calls):
        fmt = "json"
    return _limit(Calls(calls, fmt, message.content), max_calls)


def _limit(parsed: Parsed, max_calls: int) -> Parsed:
    if isinstance(parsed, Calls) and len(parsed.calls) > max_calls:
        return MalformedCall(f"{len(parsed.calls)} calls in one response; at most {max_calls} are run", parsed.format)
    return parsed


def _unfence(text: str) -> str:
    match = _FENCE.match(text)
    return match["body"].strip() if match else text


# ----- after <|python_tag|> ---------------------------------------------------------------


def _after_tag(call_text: str, tools: Collection[str], content: str) -> Parsed:
    body = _unfence(call_text.strip())
    if not body:
        return MalformedCall("<|python_tag|> with nothing after it", "builtin", call_text)
    start = _BUILTIN_CALL_START.match(body)
    if start and (start["name"] in BUILTIN_TOOLS or start["name"] in tools):
        parsed = _builtin_calls(body)
        return Calls(parsed, "builtin", content) if isinstance(parsed, list) else \
            MalformedCall(parsed, "builtin", call_text)
    untagged = _untagged(body, tools)
    if not isinstance(untagged, NoCall):
        return untagged if isinstance(untagged, MalformedCall) else Calls(untagged.calls, untagged.format, content)
    return Calls([ToolCall(CODE_INTERPRETER, {"code": call_text.strip("\n")})], "code", content)


def _builtin_calls(body: str) -> list[ToolCall] | str:
    """``name.call(k=v, ...)``, several separated by new lines or ``;``; else the reason."""
    try:
        tree = _parse_python(body, "exec")
    except SyntaxError as exc:
        return f"built-in call does not parse as Python: {exc.msg} (line {exc.lineno})"
    calls = []
    for stmt in tree.body:
        node = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "call"
                and isinstance(node.func.value, ast.Name)):
            return f"expected only name.call(...) statements, got {ast.unparse(stmt)[:80]!r}"
        call = _keyword_call(node, node.func.value.id)
        if isinstance(call, str):
            return call
        calls.append(call)
    return calls


# ----- JSON, <function=...>, Python lists -----------------------------------------------------


def _untagged(body: str, tools: Collection[str]) -> Parsed:
    if "<function=" in body:
        return _function_tags(body)
    if _JSON_CALL_START.match(body):
        return _json_calls(body, tools)
    if _LIST_CALL_START.match(body):
        return _python_list(body)
    bare = re.match(r"^([A-Za-z_][\w.]*)\s*\(", body)
    if bare and bare[1] in tools:
        return _python_list(f"[{body}]")
    return NoCall(body)


def _function_tags(body: str) -> Parsed:
    content = body[: body.index("<function=")].strip()
    rest = body[body.index("<function="):]
    calls, at = [], 0
    for match in _FUNCTION_TAG.finditer(rest):
        between = rest[at:match.start()].strip(" \n\t;,")
        if between:
            return MalformedCall(f"text between <function> calls: {between[:60]!r}", "function_tag", body)
        at = match.end()
        name = match["name"].strip()
        if not _IDENTIFIER.match(name):
            return MalformedCall(f"<function={name}> does not name a function", "function_tag", body)
        arguments = _json_object(match["body"].strip() or "{}", f"arguments of <function={name}>")
        if isinstance(arguments, str):
            return MalformedCall(arguments, "function_tag", body)
        calls.append(ToolCall(name, arguments))
    tail = rest[at:].strip()
    if tail.startswith("<function="):
        return MalformedCall("a <function=...> call is not closed with </function>", "function_tag", body)
    if tail:
        return MalformedCall(f"text after the last </function>: {tail[:60]!r}", "function_tag", body)
    if not calls:
        return MalformedCall("<function= without a complete call", "function_tag", body)
    return Calls(calls, "function_tag", content)


def _json_object(text: str, what: str) -> dict[str, Any] | str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{what} are not valid JSON: {exc.msg} at character {exc.pos}"
    if not isinstance(value, dict):
        return f"{what} must be a JSON object, got {type(value).__name__}"
    return value


def _json_calls(body: str, tools: Collection[str]) -> Parsed:
    objects: list[Any] = []
    decoder = json.JSONDecoder()
    at = 0
    while at < len(body):
        try:
            value, end = decoder.raw_decode(body, at)
        except json.JSONDecodeError as exc:
            return MalformedCall(f"JSON call does not parse: {exc.msg} at character {exc.pos}", "json", body)
        objects.extend(value if isinstance(value, list) else [value])
        at = end
        sep = re.match(r"[\s;,]*", body[at:])
        at += sep.end() if sep else 0
        if at < len(body) and body[at] not in "{[":
            return MalformedCall(f"text after the JSON call: {body[at:at + 60]!r}", "json", body)
    if not any(_looks_like_call(obj, tools) for obj in objects):
        return NoCall(body)  # a JSON answer such as {"name": "Ada", "born": 1815}
    calls = []
    for i, obj in enumerate(objects):
        call = _json_call(obj, i)
        if isinstance(call, str):
            return MalformedCall(call, "json", body)
        calls.append(call)
    if not calls:
        return MalformedCall("an empty JSON list of calls", "json", body)
    return Calls(calls, "json")


def _looks_like_call(obj: Any, tools: Collection[str]) -> bool:
    if not isinstance(obj, dict):
        return False
    return bool({"parameters", "arguments", "function"} & set(obj)) or obj.get("name") in tools


def _json_call(obj: Any, index: int) -> ToolCall | str:
    where = f"JSON call {index + 1}"
    if not isinstance(obj, dict):
        return f"{where} is a {type(obj).__name__}, not an object with name and parameters"
    if isinstance(obj.get("function"), dict):  # OpenAI's {"type": "function", "function": {...}}
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        return f"{where} has no function name (a string 'name')"
    unknown = set(obj) - {"name", "parameters", "arguments", "type", "id"}
    if unknown:
        return f"{where} ({name}) has unknown keys {sorted(unknown)}; a call has name and parameters"
    arguments = obj.get("parameters", obj.get("arguments", {}))
    if isinstance(arguments, str):  # OpenAI writes arguments as a JSON string
        arguments = _json_object(arguments, f"{where} ({name}) arguments")
        if isinstance(arguments, str):
            return arguments
    if not isinstance(arguments, dict):
        return f"{where} ({name}) parameters must be an object, got {type(arguments).__name__}"
    return ToolCall(name, arguments, id=obj.get("id") if isinstance(obj.get("id"), str) else None)


def _python_list(body: str) -> Parsed:
    try:
        node = _parse_python(body, "eval").body
    except SyntaxError as exc:
        return MalformedCall(f"call list does not parse as Python: {exc.msg} (column {exc.offset})", "python_list",
                             body)
    if not isinstance(node, ast.List) or not node.elts:
        return MalformedCall("expected a list of calls [f(a=1), ...]", "python_list", body)
    calls = []
    for element in node.elts:
        if not isinstance(element, ast.Call):
            return MalformedCall(f"list element {ast.unparse(element)[:60]!r} is not a call", "python_list", body)
        call = _keyword_call(element, _dotted(element.func))
        if isinstance(call, str):
            return MalformedCall(call, "python_list", body)
        calls.append(call)
    return Calls(calls, "python_list")


def _parse_python(text: str, mode: str) -> ast.AST:
    # Model text like "3x" makes Python warn on stderr ("invalid decimal literal") before it
    # fails; the parse failure is the verdict, the warning only floods the run's log.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(text, mode=mode)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _keyword_call(node: ast.Call, name: str | None) -> ToolCall | str:
    if name is None:
        return f"{ast.unparse(node.func)[:60]!r} is not a function name"
    if node.args:
        return f"{name}: positional arguments are not allowed; name every argument (k=value)"
    arguments: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            return f"{name}: **kwargs are not allowed"
        if kw.arg in arguments:
            return f"{name}: argument {kw.arg} is given twice"
        try:
            arguments[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return f"{name}: argument {kw.arg} = {ast.unparse(kw.value)[:60]!r} is not a literal value"
    return ToolCall(name, arguments)
