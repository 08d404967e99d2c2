"""The ``ToolBox`` a run offers: the built-ins ``[tool_use] builtins`` names, and the tools of
``[tool_use] extra_tools`` (how a third-party plugin adds a tool with its schema and executor)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

from herd.core.errors import ConfigError, PluginError
from herd.core.services import Services
from herd.lib.chat.tools import BUILTIN_TOOLS
from herd.plugins.tools.builtin.maths import maths_tool
from herd.plugins.tools.builtin.python import UploadedFiles, python_tool
from herd.plugins.tools.builtin.search import SearchIndex, read_passages, search_tool
from herd.plugins.tools.config import ToolsConfig
from herd.lib.tool import Tool
from herd.plugins.tools.registry import ToolBox

CURATE_STAGE = "curate"


def search_paths(cfg: ToolsConfig, services: Services) -> list[Path]:
    """``[tool_use] search_documents``, else the curated corpus (``kept/*.jsonl.gz`` of the
    curate stage) when this stage reads it, else none."""
    if cfg.search_documents:
        return [Path(p) for p in cfg.search_documents]
    folder = services.inputs.get(CURATE_STAGE)
    return sorted((Path(folder) / "kept").glob("*.jsonl*")) if folder is not None else []


def build_toolbox(cfg: ToolsConfig, services: Services, embedder_of: Callable[[], Any] | None = None,
                  files: UploadedFiles | None = None) -> ToolBox:
    """``embedder_of``: builds the search embedder (default: the packaged MiniLM), called
    only when brave_search has documents. ``files``: the uploads (default ``[tool_use]
    uploaded_files``)."""
    unknown = [b for b in cfg.builtins if b not in BUILTIN_TOOLS]
    if unknown:
        raise ConfigError(f"[tool_use] builtins names {', '.join(unknown)}; the built-in tools are "
                          f"{', '.join(BUILTIN_TOOLS)}")
    box = ToolBox(max_output_chars=cfg.max_output_chars)
    if "wolfram_alpha" in cfg.builtins:
        box.add(maths_tool(cfg.maths_timeout_s))
    if "code_interpreter" in cfg.builtins:
        uploads = files if files is not None else UploadedFiles.read([Path(p) for p in cfg.uploaded_files])
        box.add(python_tool(services.open_sandbox, uploads, cfg.code_timeout_s or None))
    paths = search_paths(cfg, services) if "brave_search" in cfg.builtins else []
    if paths:
        passages = read_passages(paths, limit=cfg.search_max_documents)
        box.add(search_tool(SearchIndex(passages, (embedder_of or _minilm)()), cfg.search_results))
    for name in services.registry.names("tools"):
        component = services.registry.get("tools", name)
        origin = f"plugin '{component.plugin}' (tools '{name}')"
        cfg_section = services.config.component("tools", name)
        if cfg_section is None and component.config is not None:
            cfg_section = component.config()
        for tool in _tools(component.factory(cfg_section, services), origin):
            box.add(tool, origin=origin)
    for spec in cfg.extra_tools:
        for tool in _extra(spec, services):
            box.add(tool, origin=f"[tool_use] extra_tools {spec!r}")
    return box


def _tools(value: Any, origin: str) -> list[Tool]:
    tools = [value] if isinstance(value, Tool) else value
    if not isinstance(tools, (list, tuple)) or not all(isinstance(t, Tool) for t in tools):
        raise PluginError(f"{origin} returned {type(value).__name__}, not a Tool or a list of Tools "
                          "(herd.lib.tool.Tool)")
    return list(tools)


def _minilm() -> Any:
    from herd.lib.sft_funnel.embed import Embedder

    return Embedder()


def _extra(spec: str, services: Services) -> list[Tool]:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"[tool_use] extra_tools entry {spec!r} must be 'module:attribute'")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"[tool_use] extra_tools entry {spec!r} cannot be loaded: {exc}") from None
    if callable(value) and not isinstance(value, Tool):
        value = value(services)
    tools = [value] if isinstance(value, Tool) else value
    if not isinstance(tools, (list, tuple)) or not all(isinstance(t, Tool) for t in tools):
        raise ConfigError(f"[tool_use] extra_tools entry {spec!r} is not a Tool, a list of Tools or a function "
                          "returning them (herd.plugins.tools.registry.Tool)")
    return list(tools)
