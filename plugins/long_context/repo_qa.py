"""Code-repository reasoning rows: a module of an installed package, imported by at least
``min_dependents`` others, is removed; the question asks which modules import it and what
names it must provide. The context is the package's other files as their import evidence
(each file's path and the lines that import from the package or read a name through an
imported package module), so every answer is exactly what the context shows; answers come
from the real import graph (``import_graph``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from herd.core.errors import ConfigError
from herd.plugins.long_context.import_graph import ImportGraph, read_graph


@dataclass(frozen=True)
class RepoQuestion:
    package: str
    removed_module: str
    removed_path: str
    dependents: list[str]  # sorted: the shown modules that import removed_module
    provides: list[str]  # sorted: the names they take from it
    shown: list[str]  # the modules whose files are in the context, sorted
    complete: bool  # every module of the package that imports removed_module is shown
    context: str
    question: str
    answer: str


@lru_cache(maxsize=8)
def graph_of(package: str) -> ImportGraph:
    return read_graph(package)


def hubs_of(package: str, min_dependents: int) -> list[str]:
    """The removable modules of ``package``; a ConfigError naming it when there are none."""
    graph = graph_of(package)
    hubs = graph.hubs(min_dependents)
    if not hubs:
        most = max((len(graph.dependents(m)), m) for m in graph.modules) if graph.modules else (0, package)
        raise ConfigError(f"package {package!r}: no module is imported by at least {min_dependents} of its "
                          f"other modules (the most is {most[1]!r}, imported by {most[0]}); name a larger package")
    return hubs


def file_block(graph: ImportGraph, module: str) -> str:
    return f"# {graph.relative_path(module)}\n" + "\n".join(graph.modules[module].evidence_lines())


def candidates(graph: ImportGraph, removed: str) -> list[str]:
    """The modules whose files can be shown: every other module with package imports."""
    return [m for m in sorted(graph.modules) if m != removed and graph.modules[m].evidence]


def question(graph: ImportGraph, removed: str, shown: list[str]) -> RepoQuestion:
    """The question about ``removed`` with the files of ``shown`` as the context."""
    shown = sorted(shown)
    all_dependents = graph.dependents(removed)
    dependents = [m for m in all_dependents if m in shown]
    provides = graph.provides(removed, dependents)
    path = graph.relative_path(removed)
    context = "\n\n".join(file_block(graph, m) for m in shown)
    text = (f"The module {removed} ({path}) has been deleted from the {graph.package} package. Which of the "
            "modules above import it, and which names must a replacement provide to them?")
    names = ", ".join(provides) if provides else "none by name (they import the module only)"
    answer = (f"Modules that import {removed}: {', '.join(dependents) if dependents else 'none'}.\n"
              f"Names they use from it: {names}.")
    return RepoQuestion(graph.package, removed, path, dependents, provides, shown,
                        len(dependents) == len(all_dependents), context, text, answer)


def full_questions(package: str, samples: int, seed: int, min_dependents: int = 5) -> list[RepoQuestion]:
    """``samples`` questions over the whole package (every file with package imports shown);
    removed modules drawn from the hubs, each once before any repeats."""
    graph = graph_of(package)
    hubs = hubs_of(package, min_dependents)
    rng = random.Random(f"{seed}:{package}")
    picks: list[str] = []
    while len(picks) < samples:
        batch = list(hubs)
        rng.shuffle(batch)
        picks += batch
    return [question(graph, removed, candidates(graph, removed)) for removed in picks[:samples]]
