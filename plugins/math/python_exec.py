"""The model's Python in a math solution (docs/recipe.md section 6, "interleaved code and
text reasoning"): find the program a model turn asks to run, run it in the sandbox, and
turn the outcome into the text the model reads next.

A model turn asks for a run when it holds a fenced ```` ```python ```` block (closed, or
open at the very end of the turn) that nothing after it answers: no ```` ```output ````
block and no final answer (``####``, ``\\boxed``, "the answer is") follow it. A Llama 3.1
``code_interpreter`` call (``<|python_tag|>`` code) asks for a run too. Only the last such
block runs: earlier ones were answered in earlier turns, or are drafts the model revised.

What comes back is bounded: at most ``max_chars`` characters (a flood keeps its head, an
error its tail, where the traceback's last line is), and a program that fails, loops or
floods gets one line saying so, never a hang (the sandbox's time and output limits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from herd.core.protocols import ExecutionResult, Program, Sandbox
from herd.core.records import ChatMessage
from herd.lib.chat.tools import CODE_INTERPRETER

PROGRAM_FILE = "main.py"
COMMAND = ["python3", PROGRAM_FILE]
# The name the ipython turn carries: the same tool as Llama 3.1's built-in interpreter.
TOOL_NAME = CODE_INTERPRETER

_BLOCK = re.compile(r"```(?:python|py|python3)[ \t]*\n(.*?)(?:\n?```|\Z)", re.S)
_ANSWERED = re.compile(r"```output|####|\\boxed|answer is", re.I)


def unexecuted_code(message: ChatMessage) -> str | None:
    """The program ``message`` (an assistant turn) asks to run, or None."""
    if message.role != "assistant":
        return None
    for call in message.tool_calls:
        if call.name == CODE_INTERPRETER and isinstance(call.arguments.get("code"), str):
            code = call.arguments["code"]
            fenced = list(_BLOCK.finditer(code))
            return (fenced[-1].group(1) if fenced else code).strip() or None
    blocks = list(_BLOCK.finditer(message.content))
    if not blocks:
        return None
    last = blocks[-1]
    if _ANSWERED.search(message.content[last.end():]):
        return None
    return last.group(1).strip() or None


@dataclass(frozen=True)
class RunOutcome:
    """A program's outcome as the model reads it: ``text`` (bounded), and whether it ran
    to the end (``ok``) with its raw ``stdout`` (what a synthesizer compares)."""

    text: str
    ok: bool
    status: str
    stdout: str


def program(code: str, timeout_s: float | None) -> Program:
    return Program({PROGRAM_FILE: code}, list(COMMAND), timeout_s)


def run_programs(sandbox: Sandbox, codes: list[str], timeout_s: float | None, max_chars: int) -> list[RunOutcome]:
    """Each program run in ``sandbox`` (in parallel where it can), its outcome in order."""
    results = sandbox.run_many([program(code, timeout_s) for code in codes])
    return [outcome(result, max_chars, timeout_s) for result in results]


def outcome(result: ExecutionResult, max_chars: int, timeout_s: float | None = None) -> RunOutcome:
    """The text the model reads for ``result``: the output (``(no output)`` when empty),
    or one line on what went wrong and the output's end."""
    output = (result.stdout + result.stderr).strip()
    if result.status == "ok":
        return RunOutcome(_head(output, max_chars) or "(no output)", True, result.status, result.stdout)
    limit = f" after {timeout_s:g} s" if timeout_s else ""
    reason = {
        "error": f"the program exited with status {result.exit_code}",
        "timeout": f"the program was stopped{limit}: it ran past the time limit",
        "output_limit": "the program was stopped: it printed more than the output limit",
        "oom": "the program was stopped: it ran out of memory",
    }.get(result.status, f"the sandbox could not run the program ({result.status})")
    if result.status == "output_limit":
        body = _head(output, max_chars)
    else:
        body = _tail(output, max_chars)
    text = f"Error: {reason}" + (f"\n{body}" if body else "")
    return RunOutcome(text, False, result.status, result.stdout)


def _head(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max_chars] + f"\n... ({len(text) - max_chars} more characters cut)"


def _tail(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return f"({len(text) - max_chars} characters cut) ...\n" + text[-max_chars:]


def answer_message(run: RunOutcome) -> ChatMessage:
    """The ``ipython`` turn with a program's outcome (as the tools plugin answers a call)."""
    return ChatMessage("ipython", run.text, name=TOOL_NAME)
