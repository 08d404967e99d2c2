"""``brave_search``: search over a local index of text instead of the web (no network).

Documents are embedded with the judges' packaged MiniLM embedder
(``herd.lib.sft_funnel.embed``) and searched with a faiss inner-product index (the vectors
are normalised, so the score is the cosine similarity). The documents are what the caller
passes in: the run's curated corpus when a stage hands it over, or the files
``[tool_use] search_documents`` names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from herd.lib.documents import read_documents
from herd.core.errors import InputError
from herd.lib.chat.tools import FunctionDef
from herd.lib.tool import Tool, ToolError

DEFINITION = FunctionDef(
    "brave_search", "Search a library of documents; returns the most relevant passages.",
    {"type": "object", "properties": {"query": {"type": "string", "minLength": 1, "maxLength": 1000}},
     "required": ["query"], "additionalProperties": False})


@dataclass(frozen=True)
class Passage:
    id: str
    text: str


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


class SearchIndex:
    """Passages and their faiss index. ``embedder``: anything with ``encode(texts) ->
    float32 array`` of unit vectors (``herd.lib.sft_funnel.embed.Embedder``)."""

    def __init__(self, passages: list[Passage], embedder: Any):
        import faiss

        if not passages:
            raise InputError("the search tool has no documents to index: pass documents, or set "
                             "[tool_use] search_documents to JSONL or text files")
        self.passages = passages
        self.embedder = embedder
        vectors = embedder.encode([p.text for p in passages])
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def search(self, query: str, k: int = 3) -> list[Hit]:
        vectors = self.embedder.encode([query])
        scores, rows = self.index.search(vectors, min(k, len(self.passages)))
        return [Hit(self.passages[r], float(s)) for s, r in zip(scores[0], rows[0]) if r >= 0]


def read_passages(paths: list[Path], max_chars: int = 1500, limit: int = 10_000) -> list[Passage]:
    """Passages of JSONL files (their ``text`` field, ``id`` when present; ``.gz`` too) and
    text files (split at blank lines), each cut to ``max_chars``, at most ``limit``."""
    out: list[Passage] = []
    for path in paths:
        for passage in _passages_of(Path(path), max_chars):
            if len(out) >= limit:
                return out
            out.append(passage)
    return out


def _passages_of(path: Path, max_chars: int) -> Iterator[Passage]:
    for document in read_documents(path, "[tool_use] search_documents"):
        yield Passage(document.id, document.text[:max_chars])


def search_tool(index: SearchIndex, k: int = 3) -> Tool:
    def run(arguments: dict[str, Any]) -> str:
        hits = index.search(arguments["query"], k)
        if not hits:
            raise ToolError("no document matches")
        return "\n\n".join(f"[{i + 1}] ({h.passage.id}) {h.passage.text}" for i, h in enumerate(hits))

    return Tool(DEFINITION, run, timeout_s=60.0)
