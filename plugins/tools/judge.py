"""The ``tool_use`` verifier (a judge of kind ``verifier``): whether a tool-use trajectory
worked. A row is checked when its capability is ``tool_use`` or its system message turns
tools on; others get ``None``. The trajectory fails (0) when a call was malformed or a tool
answered with an error, or when the final answer does not state what the last tools
returned (a model that calls and then ignores the result); it passes (1) otherwise, and a
conversation without calls passes when its answer calls nothing either."""

from __future__ import annotations

import re

from herd.core.protocols import Score
from herd.core.records import ChatMessage, SFTRow
from herd.plugins.tools.environment import CAPABILITY, ENVIRONMENT_LINE
from herd.plugins.tools.parsing import NoCall, parse_text

SIGNAL = "works"
_SPACE = re.compile(r"\s+")


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def _key(output: str) -> str:
    """What an answer must repeat of a tool's output: the words of its first line (in any
    order and wording around them), without the maths engine's decimal approximation
    (``3/4 ≈ 0.75``)."""
    first = output.strip().splitlines()[0] if output.strip() else ""
    return _normal(first.split(" ≈ ")[0])


class ToolUseVerifier:
    def __init__(self, cfg=None, services=None, name: str = "tool_use"):
        self.name = name

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        return [[self._score(row)] for row in rows]

    def _score(self, row: SFTRow) -> Score:
        if row.capability != CAPABILITY and not any(m.role == "system" and ENVIRONMENT_LINE in m.content
                                                     for m in row.messages):
            return Score(self.name, SIGNAL, None, reason=f"capability '{row.capability}' uses no tools")
        last_user = max((i for i, m in enumerate(row.messages) if m.role == "user"), default=-1)
        turns = row.messages[last_user + 1:]
        if not turns or turns[-1].role != "assistant":
            return Score(self.name, SIGNAL, 0.0, reason="the trajectory does not end with an answer")
        results = [m for m in turns if m.role in ("ipython", "tool")]
        failed = next((m for m in results if m.content.startswith("Error:")), None)
        if failed is not None:
            return Score(self.name, SIGNAL, 0.0, reason=f"a tool answered with an error: {failed.content[:200]}")
        answer = turns[-1]
        if not results:
            calls = answer.tool_calls or not isinstance(parse_text(answer.content), NoCall)
            return Score(self.name, SIGNAL, 0.0 if calls else 1.0,
                         reason="the answer calls a tool no one ran" if calls else "")
        said = _normal(answer.content)
        missing = [_key(m.content) for m in _last_results(turns)
                   if not all(token in said for token in _key(m.content).split())]
        if missing:
            return Score(self.name, SIGNAL, 0.0, reason=f"the answer does not state the tool result {missing[0][:120]!r}")
        return Score(self.name, SIGNAL, 1.0)


def _last_results(turns: list[ChatMessage]) -> list[ChatMessage]:
    """The tool messages after the last model turn that called tools."""
    out: list[ChatMessage] = []
    for message in reversed(turns[:-1]):
        if message.role in ("ipython", "tool"):
            out.append(message)
        elif out:
            break
    return list(reversed(out))
