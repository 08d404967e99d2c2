"""The import graph of an installed Python package, read from its source with ``ast``
(nothing is imported or executed): which of the package's modules each module imports, the
names it takes from each, and the source lines that show it.

An edge ``a -> b`` exists when module ``a`` names module ``b`` of the same package in an
import statement: ``import p.b``, ``from p import b`` (a submodule), ``from p.b import x``,
or the relative forms. Importing ``p.b`` does not count as importing ``p`` (its
``__init__`` runs, but nothing of it is used by name). The names ``a`` needs from ``b``
are those of ``from b import x`` (``*`` is left out: it names nothing) and the attributes
``a`` reads through a name bound to ``b`` (``import p.b as m; m.x``, ``p.b.x``), minus
``b``'s own submodules (those are edges of their own).
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from herd.core.errors import ConfigError


@dataclass
class ModuleImports:
    """One module: its file, the package modules it imports with the names it takes from
    each, and the lines (1-based, first and last) of the statements and attribute reads
    that show it."""

    name: str
    path: Path
    imports: dict[str, set[str]] = field(default_factory=dict)
    evidence: dict[str, set[tuple[int, int]]] = field(default_factory=dict)

    def add(self, target: str, node: ast.AST, names: tuple[str, ...] = ()) -> None:
        self.imports.setdefault(target, set()).update(names)
        self.evidence.setdefault(target, set()).add((node.lineno, node.end_lineno or node.lineno))

    def evidence_lines(self) -> list[str]:
        """The source lines that show every package import of this module, in file order."""
        numbers = sorted({n for spans in self.evidence.values() for first, last in spans
                          for n in range(first, last + 1)})
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [lines[n - 1].strip() for n in numbers if n <= len(lines)]


@dataclass
class ImportGraph:
    package: str
    root: Path
    modules: dict[str, ModuleImports]

    def dependents(self, target: str) -> list[str]:
        """The modules that import ``target``, sorted."""
        return sorted(m.name for m in self.modules.values() if target in m.imports and m.name != target)

    def provides(self, target: str, among: list[str] | None = None) -> list[str]:
        """The names ``target`` must provide to its dependents (``among`` them only), sorted."""
        names: set[str] = set()
        for name in among if among is not None else self.dependents(target):
            names |= self.modules[name].imports.get(target, set())
        return sorted(names)

    def hubs(self, min_dependents: int) -> list[str]:
        """The modules imported by at least ``min_dependents`` others, sorted."""
        return [m for m in sorted(self.modules) if len(self.dependents(m)) >= min_dependents]

    def relative_path(self, module: str) -> str:
        return self.modules[module].path.relative_to(self.root.parent).as_posix()


def package_root(package: str) -> Path:
    """The source folder of the installed package ``package``; a ConfigError naming it when
    it is not installed or is a single module (no import graph of its own)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"package {package!r} cannot be found ({exc}); name an installed package") from None
    if spec is None:
        raise ConfigError(f"package {package!r} is not installed; name an installed package "
                          "(`python -c 'import NAME'` must work)")
    locations = list(spec.submodule_search_locations or [])
    if not locations:
        raise ConfigError(f"{package!r} is a single module ({spec.origin}), not a package: it has no "
                          "modules importing each other; name a package")
    return Path(locations[0])


def read_graph(package: str) -> ImportGraph:
    root = package_root(package)
    files = {_module_name(package, root, path): path for path in sorted(root.rglob("*.py"))
             if all(part.isidentifier() for part in path.relative_to(root).with_suffix("").parts)}
    modules = {name: ModuleImports(name, path) for name, path in files.items()}
    for name, module in modules.items():
        try:
            tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue  # a file this Python cannot parse (a template, another version's syntax)
        _collect(tree, module, set(files), _is_package(module.path))
    return ImportGraph(package, root, modules)


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """The absolute name of a (possibly relative) ``from`` import's module."""
    if level == 0:
        return name
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(base) - 1:
        return None
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _collect(tree: ast.AST, module: ModuleImports, known: set[str], is_package: bool) -> None:
    bindings: dict[str, str] = {}  # a dotted local name -> the package module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    module.add(alias.name, node)
                    bindings[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module.name, is_package, node.level, node.module)
            if source is None:
                continue
            names = []
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:
                    module.add(submodule, node)
                    bindings[alias.asname or alias.name] = submodule
                elif alias.name != "*":
                    names.append(alias.name)
            if source in known and (names or not node.names or all(a.name == "*" for a in node.names)):
                module.add(source, node, tuple(names))
    if bindings:
        _attribute_reads(tree, module, bindings, known)


def _attribute_reads(tree: ast.AST, module: ModuleImports, bindings: dict[str, str], known: set[str]) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
            continue
        chain = _dotted(node)
        if chain is None:
            continue
        prefix, _, attribute = chain.rpartition(".")
        target = bindings.get(prefix)
        if target is not None and f"{target}.{attribute}" not in known:
            module.add(target, node, (attribute,))


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])
