"""What a tool is, for every plugin that offers one (the built-in ``tools`` plugin and
third-party plugins registering under ``herd_register_tools``): its ``FunctionDef`` and an
executor, and the error an executor raises for the model to read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from herd.lib.chat.tools import FunctionDef


class ToolError(Exception):
    """Raised by an executor for a failure the model should read (bad input, no result)."""


@dataclass(frozen=True)
class Tool:
    """A tool: its definition and ``run(arguments) -> text``, called only with arguments
    that passed the schema. ``timeout_s`` bounds an in-process executor (a thread that
    outlives it is abandoned; executors that run programs use the sandbox's own limit)."""

    definition: FunctionDef
    run: Callable[[dict[str, Any]], str]
    timeout_s: float = 30.0

    @property
    def name(self) -> str:
        return self.definition.name
