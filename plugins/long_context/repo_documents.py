"""Repository-level code documents for long-context pretraining (docs/recipe.md section 4.2
extends the context on long documents; the Llama 3 paper's long-context data includes
code repositories).

A document is one installed package's source files concatenated in import order: every
module comes after the package modules it imports (a topological order of the import
graph, ties by name), each under a ``# file: path`` header. Names a module defines come back
in the modules that import it, further on in the same document, so predicting the later
text rewards looking far back and copying: the skill a needle-in-a-haystack test asks
for, learnt from real code rather than from the test's own format.

Installed packages are a corpus that needs no download; nothing is imported or run (the
import graph is read with ``ast``).
"""

from __future__ import annotations

from dataclasses import dataclass

from herd.plugins.long_context.import_graph import ImportGraph, read_graph


@dataclass(frozen=True)
class RepoDocument:
    """One package's (or one part of a large package's) files in import order."""

    package: str
    part: int
    modules: tuple[str, ...]
    text: str


def import_order(graph: ImportGraph) -> list[str]:
    """The package's modules, each after the modules it imports (an import cycle is broken
    at the alphabetically first module still waiting); ties in name order."""
    waiting = {name: {d for d in module.imports if d in graph.modules and d != name}
               for name, module in graph.modules.items()}
    done: set[str] = set()
    order: list[str] = []
    while waiting:
        ready = sorted(n for n, deps in waiting.items() if deps <= done) or [min(waiting)]
        for name in ready:
            order.append(name)
            done.add(name)
            del waiting[name]
    return order


def _file_text(graph: ImportGraph, module: str) -> str | None:
    try:
        source = graph.modules[module].path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # an unreadable file: the document goes on without it
    if not source.strip():
        return None
    return f"# file: {graph.relative_path(module)}\n{source.rstrip()}\n"


def repo_documents(package: str, max_chars: int) -> list[RepoDocument]:
    """``package``'s files in import order, cut at file boundaries into documents of at most
    ``max_chars`` characters (a single larger file is a document of its own, cut at
    ``max_chars``). A package that is not installed is a ConfigError naming it."""
    graph = read_graph(package)
    docs: list[RepoDocument] = []
    pieces: list[str] = []
    names: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal pieces, names, size
        if pieces:
            docs.append(RepoDocument(package, len(docs), tuple(names), "\n".join(pieces)))
        pieces, names, size = [], [], 0

    for module in import_order(graph):
        text = _file_text(graph, module)
        if text is None:
            continue
        if size and size + len(text) > max_chars:
            flush()
        pieces.append(text[:max_chars])
        names.append(module)
        size += len(pieces[-1]) + 1
    flush()
    return docs
