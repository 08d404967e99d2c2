"""``code_interpreter``: the model's Python, run in herd's sandbox (no network, the
sandbox's time, memory and output limits), with the user's uploaded files (CSV, text).

The files are copied into the program's fresh work directory and made read-only before
the model's code runs, so a write fails as on a read-only mount; the user's originals
never enter the sandbox. As in a notebook, the value of a last bare expression is printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager

from herd.core.errors import InputError
from herd.core.protocols import Sandbox
from herd.lib.chat.tools import FunctionDef
from herd.lib.tool import Tool, ToolError

DEFINITION = FunctionDef(
    "code_interpreter", "Run Python 3 code (standard library only, no network); uploaded files are in the "
    "working directory, read-only. Prints what the code prints and the value of its last expression.",
    {"type": "object", "properties": {"code": {"type": "string", "minLength": 1}},
     "required": ["code"], "additionalProperties": False})

CODE_FILE = "_herd_cell.py"
# Runs the cell like a notebook: the files read-only first, then the code, then the last
# expression's value. Standard library only (the sandbox image has nothing else).
RUNNER = f'''import ast, os, stat, sys
for name in os.listdir("."):
    if name not in ({CODE_FILE!r}, "_herd_run.py") and os.path.isfile(name):
        os.chmod(name, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
source = open({CODE_FILE!r}, encoding="utf-8").read()
os.remove({CODE_FILE!r})
tree = ast.parse(source, "<cell>")
last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
scope = {{"__name__": "__main__"}}
exec(compile(tree, "<cell>", "exec"), scope)
if last is not None:
    value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), scope)
    if value is not None:
        print(repr(value))
'''


@dataclass(frozen=True)
class UploadedFiles:
    """Files the user uploaded, by the name the code opens them with."""

    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, paths: list[Path]) -> "UploadedFiles":
        texts = {}
        for path in paths:
            path = Path(path)
            if path.name in texts:
                raise InputError(f"two uploaded files are named {path.name}; rename one ({path})")
            try:
                texts[path.name] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"uploaded file {path} cannot be read as UTF-8 text (CSV, text): {exc}") from None
        return cls(texts)


def run_code(sandbox: Sandbox, code: str, files: UploadedFiles, timeout_s: float | None = None) -> str:
    """The cell's output (stdout then stderr); ``ToolError`` with the output when it fails."""
    reserved = {CODE_FILE, "_herd_run.py"} & set(files.texts)
    if reserved:
        raise ToolError(f"an uploaded file may not be named {', '.join(sorted(reserved))}")
    result = sandbox.run({**files.texts, CODE_FILE: code, "_herd_run.py": RUNNER}, ["python3", "_herd_run.py"],
                         timeout_s)
    output = (result.stdout + result.stderr).strip()
    if result.status == "ok":
        return output or "(no output)"
    if result.status == "error":
        raise ToolError(_cell_traceback(output) or f"the code exited with status {result.exit_code}")
    raise ToolError(f"the code was stopped ({result.status}): {output[-1000:]}".rstrip(": "))


def _cell_traceback(output: str) -> str:
    """The traceback from the model's cell on (the runner's own frames are noise to it)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if '"<cell>"' in line), None)
    if start is None:
        return output
    head = [line for line in lines[:start] if not line.startswith(("Traceback", "  File \"/", "    "))]
    return "\n".join(head + ["Traceback (most recent call last):"] + lines[start:])


def python_tool(open_sandbox: Callable[[], ContextManager[Sandbox]], files: UploadedFiles,
                timeout_s: float | None = None) -> Tool:
    """``open_sandbox``: ``Services.open_sandbox`` (the stage's sandbox when it holds one
    open, else one opened for the call)."""

    def run(arguments: dict[str, Any]) -> str:
        with open_sandbox() as sandbox:
            return run_code(sandbox, arguments["code"], files, timeout_s)

    # The sandbox enforces the program's limit; the thread bound only backs it up.
    return Tool(DEFINITION, run, timeout_s=(timeout_s or 60.0) + 30.0)
