"""Asking a model BFCL's questions: the question's functions as Llama 3.1 custom tools
(BFCL's schema dialect turned into JSON Schema) in the system message, then its turns."""

from __future__ import annotations

from typing import Any

from herd.core.records import ChatMessage
from herd.lib.chat.tools import FunctionDef, tools_system_prompt
from herd.plugins.tools.bfcl.rows import BfclQuestion

# BFCL's type names that JSON Schema spells otherwise ("any" has no JSON Schema type).
_JSON_TYPES = {"dict": "object", "float": "number", "tuple": "array"}


def json_schema(schema: Any) -> Any:
    if isinstance(schema, list):
        return [json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "type" and value == "any":
            continue
        if key == "type" and isinstance(value, str):
            out[key] = _JSON_TYPES.get(value, value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = json_schema(value)
    return out


def function_defs(question: BfclQuestion) -> list[FunctionDef]:
    return [FunctionDef(f["name"], str(f.get("description", "")),
                        json_schema(f.get("parameters") or {"type": "dict", "properties": {}}))
            for f in question.functions]


def conversation(question: BfclQuestion) -> list[ChatMessage]:
    """The question's turns after a system message offering its functions (a system
    message the question brings follows the tool instructions)."""
    system = [tools_system_prompt(question.builtins, function_defs(question))]
    system += [m.content for m in question.messages() if m.role == "system"]
    return [ChatMessage("system", "\n\n".join(system)), *[m for m in question.messages() if m.role != "system"]]
