"""BFCL's files as typed rows: questions (``id``, ``question``, ``function``), possible
answers (``id``, ``ground_truth``) and responses (``id``, ``response``). BFCL writes them as
JSON Lines (under a ``.json`` name); a JSON list of rows is read too."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from herd.core.errors import InputError
from herd.core.records import ChatMessage


@dataclass(frozen=True)
class BfclQuestion:
    """``turns``: the conversation(s) before the model's answer (BFCL nests one list of
    messages per turn; single-turn categories have one); ``functions``: the definitions
    offered, in BFCL's schema dialect (``dict``, ``float``, ``tuple``, ``any``);
    ``builtins``: Llama 3.1 built-in tools offered by name (herd's own questions; BFCL's
    rows offer none)."""

    id: str
    turns: list[list[ChatMessage]]
    functions: list[dict[str, Any]]
    builtins: tuple[str, ...] = ()

    def messages(self) -> list[ChatMessage]:
        return [message for turn in self.turns for message in turn]


@dataclass(frozen=True)
class ExpectedCall:
    """One call of a possible answer: for each parameter, the acceptable values (``""``
    among them: the parameter may be left out)."""

    name: str
    parameters: dict[str, list[Any]]


@dataclass(frozen=True)
class BfclAnswer:
    id: str
    calls: list[ExpectedCall]


@dataclass(frozen=True)
class BfclResponse:
    id: str
    text: str


def read_rows(path: Path, what: str) -> list[tuple[str, dict[str, Any]]]:
    """(``path:line``, row) for each row of a JSON Lines file or a JSON list."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} file {path} cannot be read: {exc}") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InputError(f"{what} file {path}: not a JSON list of rows ({exc})") from None
        return [(f"{path}[{i}]", _object(row, f"{path}[{i}]")) for i, row in enumerate(rows)]
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            out.append((where, _object(json.loads(line), where)))
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InputError(f"{where}: {what} row is not JSON ({exc})") from None
    return out


def _object(row: Any, where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    if not isinstance(row.get("id"), str) or not row["id"]:
        raise InputError(f"{where}: row has no string 'id'")
    return row


def question_from_row(row: dict[str, Any], where: str) -> BfclQuestion:
    turns_raw = row.get("question")
    if isinstance(turns_raw, list) and turns_raw and all(isinstance(m, dict) for m in turns_raw):
        turns_raw = [turns_raw]  # one turn written without the outer list
    if not isinstance(turns_raw, list) or not all(isinstance(t, list) for t in turns_raw):
        raise InputError(f"{where}: 'question' must be a list of turns, each a list of messages")
    turns = []
    for t, turn in enumerate(turns_raw):
        messages = []
        for m, message in enumerate(turn):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str) \
                    or not isinstance(message.get("content"), str):
                raise InputError(f"{where}: question turn {t} message {m} needs string 'role' and 'content'")
            messages.append(ChatMessage(message["role"], message["content"]))
        turns.append(messages)
    functions = row.get("function", [])
    if isinstance(functions, dict):
        functions = [functions]
    if not isinstance(functions, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str)
                                                  for f in functions):
        raise InputError(f"{where}: 'function' must be a list of definitions, each with a string 'name'")
    return BfclQuestion(row["id"], turns, functions)


def answer_from_row(row: dict[str, Any], where: str) -> BfclAnswer:
    truth = row.get("ground_truth")
    if isinstance(truth, dict):
        truth = [truth]
    if not isinstance(truth, list):
        raise InputError(f"{where}: 'ground_truth' must be a list of {{function: {{parameter: [values]}}}}")
    calls = []
    for i, item in enumerate(truth):
        if not isinstance(item, dict) or len(item) != 1:
            raise InputError(f"{where}: ground_truth[{i}] must be one {{function name: parameters}} object")
        (name, params), = item.items()
        if not isinstance(params, dict) or not all(isinstance(v, list) for v in params.values()):
            raise InputError(f"{where}: ground_truth[{i}] ({name}): each parameter must map to a list of "
                             "acceptable values")
        calls.append(ExpectedCall(name, dict(params)))
    return BfclAnswer(row["id"], calls)


def response_from_row(row: dict[str, Any], where: str) -> BfclResponse:
    """BFCL's result files hold ``result``; herd's hold ``response``. Both are raw text."""
    text = row.get("response", row.get("result"))
    if not isinstance(text, str):
        raise InputError(f"{where}: 'response' must be the model's raw text (a string), got "
                         f"{type(text).__name__}")
    return BfclResponse(row["id"], text)


def read_questions(path: Path) -> list[BfclQuestion]:
    return _unique([question_from_row(row, where) for where, row in read_rows(path, "questions")], path)


def read_answers(path: Path) -> dict[str, BfclAnswer]:
    return {a.id: a for a in _unique([answer_from_row(row, where) for where, row in read_rows(path, "answers")],
                                     path)}


def read_responses(path: Path) -> dict[str, BfclResponse]:
    return {r.id: r for r in _unique([response_from_row(row, where) for where, row in read_rows(path, "responses")],
                                     path)}


def _unique(rows: list, path: Path) -> list:
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            raise InputError(f"{path}: id {row.id!r} appears twice; each id must be unique")
        seen.add(row.id)
    return rows
