"""``wolfram_alpha``: a maths engine, sympy standing in for Wolfram Alpha (issue 19).

sympy is not in the sandbox image, so each query runs in its own child process
(``maths_worker.py``) with a wall-clock timeout (the process is killed), an address-space
and CPU-time rlimit and no inherited environment. The query is read by an ``ast``
whitelist, never by ``eval``, so no Python reaches the host (see the worker)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from herd.lib.chat.tools import FunctionDef
from herd.lib.tool import Tool, ToolError

WORKER = Path(__file__).with_name("maths_worker.py")
DEFINITION = FunctionDef(
    "wolfram_alpha", "Exact mathematics: evaluate, simplify, solve, differentiate or integrate an expression.",
    {"type": "object", "properties": {"query": {"type": "string", "minLength": 1, "maxLength": 2000,
                                                "description": "e.g. 'solve x^2 = 4 for x'"}},
     "required": ["query"], "additionalProperties": False})


def solve(query: str, timeout_s: float = 10.0, memory_mb: int = 1024) -> str:
    """The engine's answer to ``query``; ``ToolError`` when it has none (with why)."""
    limit = memory_mb * 1024 * 1024

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (int(timeout_s) + 1, int(timeout_s) + 1))

    try:
        done = subprocess.run([sys.executable, "-I", str(WORKER)], input=json.dumps({"query": query}),
                              capture_output=True, text=True, timeout=timeout_s, env={"PATH": "/usr/bin:/bin"},
                              preexec_fn=limits)
    except subprocess.TimeoutExpired:
        raise ToolError(f"the maths engine did not finish within {timeout_s:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ToolError(f"the maths engine failed (exit {done.returncode}): {last[:300]}")
    result = json.loads(done.stdout)
    if not result["ok"]:
        raise ToolError(result["output"])
    return result["output"]


def maths_tool(timeout_s: float = 10.0) -> Tool:
    def run(arguments: dict[str, Any]) -> str:
        return solve(arguments["query"], timeout_s)

    # The child process holds the time bound; the thread's bound only backs it up.
    return Tool(DEFINITION, run, timeout_s=timeout_s + 5)
