"""The ``tools`` rollout environment: answers a model turn that calls tools with their
results as ``ipython`` messages (one per call, in order), a malformed call with an error
message (so the trajectory shows it), and a turn without a call with ``None``. A rollout of
a prompt that brings its own functions or files (``prompt_tools``) is answered by an
environment started for that prompt, with those tools and files."""

from __future__ import annotations

from typing import Callable

from herd.core.records import ChatMessage, SFTRow
from herd.plugins.tools.builtin.python import UploadedFiles
from herd.plugins.tools.config import ToolsConfig
from herd.plugins.tools.parsing import Calls, MalformedCall, NoCall, parse_message
from herd.plugins.tools.prompt_tools import PromptTools, prompt_toolbox
from herd.lib.tool import Tool
from herd.plugins.tools.registry import ToolBox

CAPABILITY = "tool_use"
ENVIRONMENT_LINE = "Environment: ipython"


class ToolEnvironment:
    def __init__(self, toolbox: ToolBox, cfg: ToolsConfig | None = None,
                 code_tool: Callable[[UploadedFiles], Tool] | None = None):
        """``code_tool``: builds the code interpreter over a prompt's uploaded files (None:
        prompts' files are not mounted; their code sees the run's uploads only)."""
        self.toolbox = toolbox
        self.cfg = cfg or ToolsConfig()
        self.code_tool = code_tool

    def start(self, prompt: SFTRow) -> "ToolEnvironment":
        setup = PromptTools.from_metadata(prompt.metadata, f"prompt {prompt.id}")
        if setup is None:
            return self
        return ToolEnvironment(prompt_toolbox(self.toolbox, setup, self.code_tool), self.cfg, self.code_tool)

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
