"""What a BFCL category asks for, read from the row's id (``simple_python_3``,
``live_parallel_2-1-0``, ``irrelevance_17``)."""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

_INDEX = re.compile(r"^(?P<category>.+?)_\d+(?:-\d+)*$")


class Expectation(Enum):
    CALLS = "calls"              # the possible answer's calls, in any order (simple, multiple, parallel)
    NO_CALL = "no_call"          # irrelevance: no offered function fits; only an answer without a call is right
    SOME_CALL = "some_call"      # live relevance: any call that parses is right
    NOT_CHECKED = "not_checked"  # needs execution or another language's type system


# Categories the AST rules cannot score, and why (they are reported, never guessed).
_NOT_CHECKED = {
    "multi_turn": "multi-turn categories are scored by executing the calls against BFCL's simulated APIs",
    "memory": "memory categories need BFCL's agentic memory backends",
    "web_search": "web-search categories need live search",
    "format_sensitivity": "format-sensitivity rows are re-prompted variants scored by BFCL's own harness",
    "java": "Java arguments are Java source strings (BFCL converts them with its Java type converter)",
    "javascript": "JavaScript arguments are JavaScript source strings (BFCL converts them with its JS type converter)",
}


def category_of(row_id: str) -> str:
    match = _INDEX.match(row_id)
    return match.group("category") if match else row_id


@lru_cache(maxsize=256)
def expectation_of(category: str) -> tuple[Expectation, str]:
    """The rule for ``category`` and, for categories not checked, why."""
    for key, why in _NOT_CHECKED.items():
        if key in category.split("_") or category.startswith(key):
            return Expectation.NOT_CHECKED, why
    if "irrelevance" in category:
        return Expectation.NO_CALL, ""
    if "relevance" in category:
        return Expectation.SOME_CALL, ""
    return Expectation.CALLS, ""
