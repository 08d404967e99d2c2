"""The ``[tool_use]`` config section, shared by the ``tools`` environment and the
``tool_use`` synthesizer."""

from __future__ import annotations

from dataclasses import dataclass, field

from herd.core.config import positive


@dataclass
class ToolsConfig:
    # Llama 3.1's built-in tools to offer: brave_search (local index), wolfram_alpha (sympy),
    # code_interpreter (the sandbox).
    builtins: list[str] = field(default_factory=lambda: ["brave_search", "wolfram_alpha", "code_interpreter"])
    # JSONL ("text" field) or text files brave_search indexes; empty: the curated corpus
    # when the stage reads the curate stage, else brave_search is not offered.
    search_documents: list[str] = field(default_factory=list)
    search_results: int = 3
    search_max_documents: int = 10_000
    # Files the code interpreter sees, read-only, in its working directory (CSV, text).
    uploaded_files: list[str] = field(default_factory=list)
    # Third-party tools: "module:attribute", a Tool, a list of Tools, or a function of the
    # Services returning a list of Tools (herd.plugins.tools.registry.Tool).
    extra_tools: list[str] = field(default_factory=list)
    maths_timeout_s: float = 10.0
    # 0: the sandbox's own limit ([sandbox] timeout_s).
    code_timeout_s: float = 0.0
    # A response with more calls is answered with one error (issue 19, "a thousand calls").
    max_calls: int = 64
    # Trajectories drafted per call of the synthesizer (the round's budget caps it too): each
    # runs its tools for real (sympy in a child process, Python in the sandbox), and in the
    # built-in profiles most custom-function rows are longer than the model's context.
    drafts: int = positive(96)
    max_output_chars: int = 4000
    seed: int = 0
