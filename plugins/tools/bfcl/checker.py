"""A response's verdict by BFCL's AST rules (function names, required parameters, types,
acceptable values, unknown parameters rejected, parallel calls in any order), on every
call format herd's parser reads. Unlike BFCL, a response that starts a call and does not
parse is wrong everywhere, irrelevance rows included: a broken call is not abstention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herd.core.records import ToolCall
from herd.plugins.tools.bfcl.categories import Expectation, category_of, expectation_of
from herd.plugins.tools.bfcl.rows import BfclAnswer, BfclQuestion, ExpectedCall
from herd.plugins.tools.bfcl.values import OPTIONAL, value_problem
from herd.plugins.tools.builtin import maths, python, search

BUILTIN_DEFINITIONS = {d.name: d for d in (maths.DEFINITION, python.DEFINITION, search.DEFINITION)}
from herd.plugins.tools.parsing import Calls, MalformedCall, NoCall, parse_text


@dataclass(frozen=True)
class Verdict:
    """``correct`` is None for a category the AST rules do not score (``reason`` says why)."""

    id: str
    category: str
    correct: bool | None
    reason: str
    malformed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "correct": self.correct, "reason": self.reason}


def check_response(question: BfclQuestion, answer: BfclAnswer | None, text: str | None) -> Verdict:
    category = category_of(question.id)
    expectation, why = expectation_of(category)
    if expectation is Expectation.NOT_CHECKED:
        return Verdict(question.id, category, None, f"not checked: {why}")
    if text is None:
        return Verdict(question.id, category, False, "no response for this id")
    functions = question.functions + [builtin_definition(name) for name in question.builtins]
    parsed = parse_text(text, tools=[f["name"] for f in functions])
    if isinstance(parsed, MalformedCall):
        return Verdict(question.id, category, False, f"malformed call ({parsed.format}): {parsed.reason}", True)
    if expectation is Expectation.NO_CALL:
        if isinstance(parsed, NoCall):
            return Verdict(question.id, category, True, "no call: none of the functions fits")
        return Verdict(question.id, category, False,
                       f"called {', '.join(c.name for c in parsed.calls)} although none of the functions fits")
    if expectation is Expectation.SOME_CALL:
        ok = isinstance(parsed, Calls)
        return Verdict(question.id, category, ok, "called a function" if ok else "no call, but a function fits")
    if answer is None:
        return Verdict(question.id, category, False, "no possible answer for this id in the answers file")
    if isinstance(parsed, NoCall):
        return Verdict(question.id, category, False, f"no call; expected {len(answer.calls)}")
    problem = calls_problem(functions, parsed.calls, answer.calls)
    return Verdict(question.id, category, problem is None, problem or "every call matches")


def builtin_definition(name: str) -> dict[str, Any]:
    """A Llama 3.1 built-in tool's definition, as a BFCL function row (the prompt names the
    tool; its arguments are checked against this)."""
    definition = BUILTIN_DEFINITIONS[name]
    return {"name": definition.name, "description": definition.description, "parameters": definition.parameters}


def calls_problem(functions: list[dict[str, Any]], calls: list[ToolCall], expected: list[ExpectedCall]) -> str | None:
    """None when ``calls`` match ``expected`` one to one in some order, else the first reason."""
    if len(calls) != len(expected):
        return f"{len(calls)} calls, expected {len(expected)}"
    problems = [[call_problem(functions, e, c) for c in calls] for e in expected]
    if _match(problems):
        return None
    for i, row in enumerate(problems):
        if all(p is not None for p in row):
            same_name = [p for p, c in zip(row, calls) if _names_match(c.name, expected[i].name)]
            detail = (same_name or row)[0]
            return detail if len(expected) == 1 else f"no call matches expected call {i} ({expected[i].name}): {detail}"
    return "the calls match the expected ones only when one call is used twice"


def _match(problems: list[list[str | None]]) -> bool:
    """Whether every expected call (row) can be paired with its own given call (column)
    with no problem: bipartite matching by augmenting paths (polynomial; a response may
    hold up to the parser's 64 calls)."""
    owner: dict[int, int] = {}

    def place(row: int, seen: set[int]) -> bool:
        for column, problem in enumerate(problems[row]):
            if problem is None and column not in seen:
                seen.add(column)
                if column not in owner or place(owner[column], seen):
                    owner[column] = row
                    return True
        return False

    return all(place(row, set()) for row in range(len(problems)))


def _names_match(given: str, expected: str) -> bool:
    # OpenAI-style APIs refuse "." in function names; BFCL turns them into "_" for such models.
    return given == expected or given == expected.replace(".", "_")


def call_problem(functions: list[dict[str, Any]], expected: ExpectedCall, call: ToolCall) -> str | None:
    if not _names_match(call.name, expected.name):
        return f"calls {call.name}, expected {expected.name}"
    definition = next((f for f in functions if f.get("name") == expected.name), None)
    if definition is None:
        return f"the answer's function {expected.name} is not among the question's functions"
    schema = definition.get("parameters") or {}
    properties: dict[str, Any] = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in call.arguments:
            return f"missing required parameter {name!r}"
    for name, value in call.arguments.items():
        if name not in properties or name not in expected.parameters:
            return f"unexpected parameter {name!r}"
        problem = value_problem(name, value, properties[name], expected.parameters[name])
        if problem:
            return problem
    for name, acceptable in expected.parameters.items():
        if name not in call.arguments and OPTIONAL not in acceptable:
            return f"missing parameter {name!r} (the answer has no default for it)"
    return None
