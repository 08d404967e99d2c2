"""Typed tool calls as Llama 3.1 writes them, and back.

Llama 3.1 has two ways to call a tool (the model card's prompt format, and
``ToolUtils.encode_tool_call`` in meta-llama/llama-models):

* a **built-in** tool is called in Python syntax after ``<|python_tag|>``:
  ``brave_search.call(query="...")``, ``wolfram_alpha.call(query="...")``; the
  ``code_interpreter`` call is the code itself. The message ends with ``<|eom_id|>``: the
  model stops and waits for the tool's result;
* a **custom** tool (one the system prompt describes) is called with one JSON object
  ``{"name": ..., "parameters": {...}}`` and the message ends with ``<|eot_id|>``.

``render_call`` is used by the chat format (and mirrored by the exported tokenizer's chat
template, ``herd.lib.chat.template``); ``parse_call`` reads a generated call back so that a
model turn comes back as a typed ``ChatMessage``.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Sequence

from herd.core.errors import InputError
from herd.core.records import ToolCall

BUILTIN_TOOLS = ("brave_search", "wolfram_alpha", "code_interpreter")
CODE_INTERPRETER = "code_interpreter"


@dataclass(frozen=True)
class RenderedCall:
    """A call's text, and whether it is a built-in call (after ``<|python_tag|>``, ending
    the message with ``<|eom_id|>``) or a custom JSON call (ending with ``<|eot_id|>``)."""

    text: str
    builtin: bool


def render_call(call: ToolCall, where: str = "tool call") -> RenderedCall:
    if call.name == CODE_INTERPRETER:
        code = call.arguments.get("code")
        if not isinstance(code, str) or set(call.arguments) != {"code"}:
            raise InputError(f"{where}: code_interpreter takes exactly one string argument 'code', "
                             f"got {sorted(call.arguments)}")
        return RenderedCall(code, builtin=True)
    if call.name in BUILTIN_TOOLS:
        bad = [k for k, v in call.arguments.items() if not isinstance(v, str) or '"' in v]
        if bad:
            # Meta writes the values between double quotes with no escaping.
            raise InputError(f"{where}: built-in tool {call.name} takes string arguments without '\"'; "
                             f"argument(s) {', '.join(bad)} are not")
        args = ", ".join(f'{k}="{v}"' for k, v in call.arguments.items())
        return RenderedCall(f"{call.name}.call({args})", builtin=True)
    payload = {"name": call.name, "parameters": call.arguments}
    # ensure_ascii=False and no sorting: what transformers' ``tojson`` filter writes.
    return RenderedCall(json.dumps(payload, ensure_ascii=False), builtin=False)


def parse_builtin(text: str) -> ToolCall:
    """The call after ``<|python_tag|>``: ``name.call(k="v", ...)`` of a built-in tool, or
    else code for the code interpreter (which is what Llama 3.1 writes there)."""
    stripped = text.strip()
    try:
        node = ast.parse(stripped, mode="eval").body
    except SyntaxError:
        return ToolCall(CODE_INTERPRETER, {"code": text})
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "call"
            and isinstance(node.func.value, ast.Name) and node.func.value.id in BUILTIN_TOOLS
            and node.func.value.id != CODE_INTERPRETER and not node.args):
        try:
            args = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
        except ValueError:
            return ToolCall(CODE_INTERPRETER, {"code": text})
        return ToolCall(node.func.value.id, args)
    return ToolCall(CODE_INTERPRETER, {"code": text})


def parse_custom(text: str) -> ToolCall | None:
    """A custom tool call ``{"name": ..., "parameters": {...}}`` (the whole text), else None."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or set(data) - {"name", "parameters", "type"}:
        return None
    name, params = data.get("name"), data.get("parameters", {})
    if not isinstance(name, str) or not isinstance(params, dict) or name in BUILTIN_TOOLS:
        return None
    return ToolCall(name, params)


@dataclass(frozen=True)
class FunctionDef:
    """A tool the model is told about: ``parameters`` is the JSON Schema of its arguments
    (an object schema), as in the model card's custom tool definitions and OpenAI's
    ``tools`` list."""

    name: str
    description: str
    parameters: dict = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_dict(self) -> dict:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


# The model card's instruction for custom (JSON) tools, kept in the system message so that
# every user turn of a multi-step conversation sees it.
CUSTOM_TOOLS_INSTRUCTION = (
    "You have access to the following functions. To call a function, respond with only a JSON object "
    '{"name": function name, "parameters": dictionary of argument name and its value}. '
    "Call functions only when they are needed to answer.")


def tools_system_prompt(builtins: Sequence[str] = (), functions: Sequence[FunctionDef] = (),
                        instructions: str = "") -> str:
    """The system message that offers tools (Llama 3.1's prompt format): ``Environment:
    ipython`` turns the code interpreter on, ``Tools:`` names the other built-ins (the
    code interpreter is never listed there), and each custom function follows as JSON."""
    unknown = [b for b in builtins if b not in BUILTIN_TOOLS]
    if unknown:
        raise InputError(f"{', '.join(unknown)} are not Llama 3.1 built-in tools ({', '.join(BUILTIN_TOOLS)}); "
                         "offer them as FunctionDef custom tools instead")
    lines = ["Environment: ipython"] if builtins else []
    named = [b for b in builtins if b != CODE_INTERPRETER]
    if named:
        lines.append(f"Tools: {', '.join(named)}")
    if functions:
        lines += (["", CUSTOM_TOOLS_INSTRUCTION, ""] if lines else [CUSTOM_TOOLS_INSTRUCTION, ""])
        lines += [json.dumps(f.to_dict(), ensure_ascii=False) for f in functions]
    if instructions:
        lines += ["", instructions] if lines else [instructions]
    return "\n".join(lines)
