"""What one prompt brings beyond the run's own tools: generated function definitions, each
run by a built-in executor, and files uploaded with the prompt. The ``tool_use`` synthesizer
writes it into the row's metadata; the ``tools`` environment reads it back when a rollout of
that prompt starts, so rejection sampling runs the same tools the trajectory was made with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from herd.core.errors import InputError
from herd.lib.chat.tools import FunctionDef
from herd.plugins.tools.builtin.python import UploadedFiles
from herd.lib.tool import Tool
from herd.plugins.tools.registry import ToolBox

METADATA_KEY = "tool_setup"
# The argument each built-in executor reads (a generated definition's one argument maps to it).
BUILTIN_ARGUMENT = {"wolfram_alpha": "query", "code_interpreter": "code", "brave_search": "query"}


@dataclass(frozen=True)
class PromptTools:
    """``aliases``: generated function name -> the built-in executor that runs it."""

    functions: list[FunctionDef] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        return {"functions": [{"name": f.name, "description": f.description, "parameters": f.parameters}
                              for f in self.functions],
                "aliases": dict(self.aliases), "files": dict(self.files)}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], where: str) -> "PromptTools | None":
        raw = metadata.get(METADATA_KEY)
        if raw is None:
            return None
        try:
            functions = [FunctionDef(str(f["name"]), str(f.get("description", "")), dict(f["parameters"]))
                         for f in raw.get("functions", [])]
            aliases = {str(k): str(v) for k, v in raw.get("aliases", {}).items()}
            files = {str(k): v for k, v in raw.get("files", {}).items()}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: metadata '{METADATA_KEY}' is not a tool setup (functions, aliases, "
                             f"files): {exc}") from None
        bad = [name for name, text in files.items() if not isinstance(text, str)]
        missing = [f.name for f in functions if aliases.get(f.name) not in BUILTIN_ARGUMENT]
        if bad or missing:
            raise InputError(f"{where}: metadata '{METADATA_KEY}': "
                             + "; ".join([f"uploaded file(s) {', '.join(bad)} are not text"] * bool(bad)
                                         + [f"function(s) {', '.join(missing)} name no built-in executor "
                                            f"({', '.join(BUILTIN_ARGUMENT)})"] * bool(missing)))
        return cls(functions, aliases, files)


def alias_tool(definition: FunctionDef, executor: Tool) -> Tool:
    """A generated definition (one string argument) run by a built-in executor."""
    argument = next(iter(definition.parameters["properties"]))
    builtin_argument = BUILTIN_ARGUMENT[executor.name]

    def run(arguments: dict[str, Any]) -> str:
        return executor.run({builtin_argument: arguments[argument]})

    return Tool(definition, run, executor.timeout_s)


def prompt_toolbox(base: ToolBox, setup: PromptTools, code_tool: Callable[[UploadedFiles], Tool] | None) -> ToolBox:
    """``base``'s tools, the code interpreter seeing the prompt's files (``code_tool``
    builds it; None: the files are not mounted), and the prompt's functions. A function whose executor the run does not
    offer is left out: calling it is then an ``unknown_tool`` result, as for any tool the
    run lacks."""
    tools = dict(base.tools)
    if setup.files and code_tool is not None and "code_interpreter" in tools:
        tools["code_interpreter"] = code_tool(UploadedFiles(dict(setup.files)))
    box = ToolBox(max_output_chars=base.max_output_chars)
    for name, tool in tools.items():
        box.add(tool, base.origins.get(name, "herd.plugins.tools"))
    for definition in setup.functions:
        executor = tools.get(setup.aliases[definition.name])
        if executor is not None and definition.name not in box.tools:
            box.add(alias_tool(definition, executor), origin="the prompt's tool setup")
    return box
