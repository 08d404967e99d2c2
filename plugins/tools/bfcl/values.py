"""BFCL's rules for one parameter's value: the declared type (BFCL's dialect: ``float``
takes an int, ``tuple`` a list; a value of the possible answers' own type is a variable
name and is compared as written), then the value among the acceptable ones (strings
compared without case, spaces and ``,./-_*^``; lists element by element; dicts key by key)."""

from __future__ import annotations

import re
from typing import Any

_TYPES: dict[str, type] = {
    "string": str, "any": str, "integer": int, "float": float, "number": float, "boolean": bool,
    "array": list, "tuple": list, "dict": dict, "object": dict,
}
_NESTED = ("array", "tuple")
_IGNORED = re.compile(r"[ ,./\-_*^]")
OPTIONAL = ""  # among the acceptable values: the parameter may be left out


def standardize(text: str) -> str:
    return _IGNORED.sub("", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize(value) if isinstance(value, str) else value


def _first_answer_type(acceptable: list[Any]) -> type | None:
    return next((type(a) for a in acceptable if a != OPTIONAL), None)


def value_problem(param: str, value: Any, schema: dict[str, Any], acceptable: list[Any]) -> str | None:
    """Why ``value`` is not an acceptable ``param`` (None: it is)."""
    declared = schema.get("type")
    expected = _TYPES.get(declared) if isinstance(declared, str) else None
    if expected is None:  # a type BFCL does not use: compare the value as written
        return None if value in acceptable else _not_among(param, value, acceptable)
    if declared == "tuple" and isinstance(value, tuple):
        value = list(value)
    if expected is float and type(value) is int:
        value = float(value)
    variable = False
    answer_type = _first_answer_type(acceptable)
    if type(value) is expected:
        variable = answer_type is not None and answer_type is not expected
        if declared in _NESTED and not _items_typed(value, schema, acceptable):
            item_type = (schema.get("items") or {}).get("type")
            return f"parameter {param!r}: items of {value!r} are not all of type {item_type}"
    elif answer_type is not None and type(value) is answer_type:
        variable = True
    else:
        return f"parameter {param!r}: expected type {declared}, got {type(value).__name__} ({value!r})"
    if variable:
        return None if value in acceptable else _not_among(param, value, acceptable)
    if expected is dict:
        return _dict_problem(param, value, acceptable)
    item_type = (schema.get("items") or {}).get("type") if declared in _NESTED else None
    if expected is list and _TYPES.get(item_type) is dict:
        return _list_of_dicts_problem(param, value, acceptable)
    if expected is str:
        ok = standardize(value) in [standardize(a) for a in acceptable if isinstance(a, str)]
        return None if ok else _not_among(param, value, acceptable)
    if expected is list:
        ok = [_std(v) for v in value] in [[_std(x) for x in a] for a in acceptable if isinstance(a, list)]
        return None if ok else _not_among(param, value, acceptable)
    return None if value in acceptable else _not_among(param, value, acceptable)


def _items_typed(value: list[Any], schema: dict[str, Any], acceptable: list[Any]) -> bool:
    """Each item has the declared item type, or the type the acceptable list's items have
    (a variable), for at least one acceptable value; a non-list acceptable value (the
    optional marker) does not constrain the items."""
    item_type = _TYPES.get((schema.get("items") or {}).get("type", ""))
    for answer in acceptable:
        if not isinstance(answer, list):
            return True
        answer_item_type = _first_answer_type(answer)
        if all(type(item) is item_type or (answer_item_type is not None and type(item) is answer_item_type)
               for item in value):
            return True
    return False


def _dict_problem(param: str, value: dict[str, Any], acceptable: list[Any]) -> str | None:
    problem = f"parameter {param!r}: {value!r} matches no acceptable dict"
    for answer in acceptable:
        if not isinstance(answer, dict):
            continue
        problem = _one_dict_problem(param, value, answer)
        if problem is None:
            return None
    return problem


def _one_dict_problem(param: str, value: dict[str, Any], answer: dict[str, Any]) -> str | None:
    for key, item in value.items():
        if key not in answer:
            return f"parameter {param!r}: unexpected key {key!r}"
        options = answer[key] if isinstance(answer[key], list) else [answer[key]]
        if _std(item) not in [_std(o) for o in options]:
            return f"parameter {param!r}: key {key!r} = {item!r} is not one of {options!r}"
    for key, options in answer.items():
        if key not in value and OPTIONAL not in (options if isinstance(options, list) else [options]):
            return f"parameter {param!r}: missing key {key!r}"
    return None


def _list_of_dicts_problem(param: str, value: list[Any], acceptable: list[Any]) -> str | None:
    problem = f"parameter {param!r}: {value!r} matches no acceptable list"
    for answer in acceptable:
        if not isinstance(answer, list):
            continue
        if len(answer) != len(value):
            problem = f"parameter {param!r}: {len(value)} dicts, expected {len(answer)}"
            continue
        problems = [_dict_problem(param, v, [a]) if isinstance(v, dict) else f"parameter {param!r}: {v!r} is not a dict"
                    for v, a in zip(value, answer)]
        first = next((p for p in problems if p is not None), None)
        if first is None:
            return None
        problem = first
    return problem


def _not_among(param: str, value: Any, acceptable: list[Any]) -> str:
    shown = [a for a in acceptable if a != OPTIONAL]
    return f"parameter {param!r}: {value!r} is not one of {shown!r}"
