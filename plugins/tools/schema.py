"""JSON Schema checks: a tool's definition when it is added, a call's arguments before
it runs (draft 2020-12, what OpenAI's and BFCL's function definitions use)."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from herd.lib.chat.tools import FunctionDef

_NAME = re.compile(r"^[A-Za-z_][\w.-]{0,63}$")


def definition_problems(definition: FunctionDef) -> list[str]:
    """Why ``definition`` cannot be offered to a model (empty: it can)."""
    problems = []
    if not _NAME.match(definition.name or ""):
        problems.append(f"name {definition.name!r} must be an identifier (letters, digits, _ . -; 64 at most)")
    schema = definition.parameters
    if not isinstance(schema, dict):
        return problems + [f"parameters must be a JSON Schema object, got {type(schema).__name__}"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(top)"
        problems.append(f"parameters is not a valid JSON Schema at {path}: {exc.message}")
        return problems
    if schema.get("type") != "object":
        problems.append(f"parameters must have type 'object' (arguments are named), got {schema.get('type')!r}")
    return problems


def argument_errors(arguments: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every way ``arguments`` break ``schema``, each naming the argument at fault."""
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(arguments), key=lambda e: list(map(str, e.path)))
    out = []
    for error in errors:
        where = ".".join(str(p) for p in error.path)
        out.append(f"{where}: {error.message}" if where else error.message)
    return out
