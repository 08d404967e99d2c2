"""The tools a model may call in one conversation: each a ``FunctionDef`` (name, description,
JSON Schema) and an executor. ``ToolBox.call`` validates a typed call's arguments against
the schema before running it, and turns every failure into a ``ToolResult`` with a reason,
so a rollout can feed it back to the model as the ``ipython`` message."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterable

from herd.core.errors import PluginError
from herd.core.records import ChatMessage, ToolCall
from herd.lib.chat.tools import FunctionDef
from herd.lib.tool import Tool, ToolError
from herd.plugins.tools.schema import argument_errors, definition_problems

# Why a call did not produce a result (``ToolResult.reason``).
REASONS = ("unknown_tool", "invalid_arguments", "failed", "timeout")


@dataclass(frozen=True)
class ToolResult:
    """One call's outcome: ``ok`` with the tool's ``output``, or not, with ``reason`` (one
    of ``REASONS``) and the error in ``output``."""

    name: str
    ok: bool
    output: str
    reason: str = ""

    def message(self) -> ChatMessage:
        """The ``ipython`` message the model reads next."""
        return ChatMessage("ipython", self.output if self.ok else f"Error: {self.output}", name=self.name)


class ToolBox:
    """Tools by name. ``add`` refuses a definition that is not a valid JSON Schema or a
    name already taken, naming ``origin`` (the plugin or config key that added it)."""

    def __init__(self, tools: Iterable[Tool] = (), max_output_chars: int = 4000):
        self.tools: dict[str, Tool] = {}
        self.origins: dict[str, str] = {}
        self.max_output_chars = max_output_chars
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool, origin: str = "herd.plugins.tools") -> None:
        problems = definition_problems(tool.definition)
        if problems:
            raise PluginError(f"tool '{tool.name}' from {origin} has an invalid definition: {'; '.join(problems)}")
        if tool.name in self.tools:
            raise PluginError(f"tool '{tool.name}' is added by both {self.origins[tool.name]} and {origin}; "
                              "rename one of them")
        self.tools[tool.name] = tool
        self.origins[tool.name] = origin

    @property
    def names(self) -> list[str]:
        return sorted(self.tools)

    def definitions(self, names: Iterable[str] | None = None) -> list[FunctionDef]:
        return [self.tools[n].definition for n in (self.names if names is None else names)]

    def call(self, call: ToolCall) -> ToolResult:
        tool = self.tools.get(call.name)
        if tool is None:
            return ToolResult(call.name, False, f"there is no tool named {call.name!r}; the tools are "
                              f"{', '.join(self.names) or 'none'}", "unknown_tool")
        errors = argument_errors(call.arguments, tool.definition.parameters)
        if errors:
            return ToolResult(call.name, False, f"invalid arguments for {call.name}: {'; '.join(errors)}",
                              "invalid_arguments")
        return self._run(tool, call.arguments)

    def _run(self, tool: Tool, arguments: dict[str, Any]) -> ToolResult:
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["output"] = tool.run(arguments)
            except ToolError as exc:
                box["error"] = str(exc)
            except Exception as exc:  # a third-party executor's bug is the model's tool error, not a crash
                box["error"] = f"{tool.name} raised {type(exc).__name__}: {exc}"

        # A daemon thread, so that an executor that loops cannot hold the rollout or the process.
        thread = threading.Thread(target=target, name=f"tool-{tool.name}", daemon=True)
        thread.start()
        thread.join(tool.timeout_s)
        if thread.is_alive():
            return ToolResult(tool.name, False, f"{tool.name} did not finish within {tool.timeout_s:g} s", "timeout")
        if "error" in box:
            return ToolResult(tool.name, False, box["error"], "failed")
        output = box.get("output")
        if not isinstance(output, str):
            return ToolResult(tool.name, False, f"{tool.name} returned {type(output).__name__}, not text", "failed")
        return ToolResult(tool.name, True, self._cap(output))

    def _cap(self, text: str) -> str:
        if len(text) <= self.max_output_chars:
            return text
        return text[: self.max_output_chars] + f"\n[... {len(text) - self.max_output_chars} more characters cut]"
