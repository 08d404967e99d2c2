"""The ``tools`` rollout environment: answers a model turn that calls tools with their
results as ``ipython`` messages (one per call, in order), a malformed call with an error
message (so the trajectory shows it), and a turn without a call with ``None``."""

from __future__ import annotations

from herd.core.records import ChatMessage, SFTRow
from herd.plugins.tools.config import ToolsConfig
from herd.plugins.tools.parsing import Calls, MalformedCall, NoCall, parse_message
from herd.plugins.tools.registry import ToolBox

CAPABILITY = "tool_use"
ENVIRONMENT_LINE = "Environment: ipython"


class ToolEnvironment:
    def __init__(self, toolbox: ToolBox, cfg: ToolsConfig | None = None):
        self.toolbox = toolbox
        self.cfg = cfg or ToolsConfig()

    def applies(self, prompt: SFTRow) -> bool:
        """Tool-use prompts, and any prompt whose system message turns tools on."""
        if prompt.capability == CAPABILITY:
            return True
        return any(m.role == "system" and ENVIRONMENT_LINE in m.content for m in prompt.messages)

    def respond(self, conversation: list[ChatMessage]) -> list[ChatMessage] | None:
        if not conversation or conversation[-1].role != "assistant":
            return None
        parsed = parse_message(conversation[-1], self.toolbox.names, self.cfg.max_calls)
        if isinstance(parsed, NoCall):
            return None
        if isinstance(parsed, MalformedCall):
            return [malformed_message(parsed)]
        assert isinstance(parsed, Calls)
        return [self.toolbox.call(call).message() for call in parsed.calls]


def malformed_message(parsed: MalformedCall) -> ChatMessage:
    return ChatMessage("ipython", f"Error: malformed tool call ({parsed.format}): {parsed.reason}")
