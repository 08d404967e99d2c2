"""The prose long-context SFT rows are cut from: ``[synthesizers.long_context] documents``,
else the curated corpus (``kept/*.jsonl.gz`` of the curate stage) when the stage reads it,
else the plugin's essays. Texts become one stream of sentences that a row reads a run of,
wrapping around at the end."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from herd.core.errors import InputError
from herd.lib.documents import read_documents
from herd.core.services import Services
from herd.plugins.long_context.haystack import ESSAYS, essay_text
from herd.plugins.long_context.token_counter import TokenCounter

CURATE_STAGE = "curate"
# A sentence ends at . ! or ? (closing quotes or brackets kept) before a capital letter.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z])")


def split_sentences(text: str) -> list[str]:
    flat = " ".join(text.split())
    if not flat:
        return []
    out, start = [], 0
    for match in _SENTENCE_BREAK.finditer(flat):
        out.append(flat[start:match.end()].strip())
        start = match.end()
    out.append(flat[start:].strip())
    return [s for s in out if s]


def source_files(paths: list[str], services: Services | None) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    folder = services.inputs.get(CURATE_STAGE) if services is not None else None
    return sorted((Path(folder) / "kept").glob("*.jsonl*")) if folder is not None else []


def read_texts(paths: list[Path], limit: int) -> list[str]:
    """The ``text`` of JSONL records (``.gz`` too) and the paragraphs of text files, at most ``limit``."""
    texts: list[str] = []
    for path in paths:
        for document in read_documents(path, "[synthesizers.long_context] documents"):
            if len(texts) >= limit:
                return texts
            texts.append(document.text)
    return texts


@dataclass
class SentencePool:
    """Every sentence of the source texts in order, with its token count."""

    sentences: list[str]
    tokens: list[int]
    origin: str

    @classmethod
    def build(cls, texts: list[str], counter: TokenCounter, origin: str) -> "SentencePool":
        sentences = [s for text in texts for s in split_sentences(text)]
        if len(sentences) < 4:
            raise InputError(f"long-context documents ({origin}) hold {len(sentences)} sentences; "
                             "give texts with at least 4 sentences")
        # each sentence is read after a space in a section, so count it with one
        return cls(sentences, counter.count_batch([" " + s for s in sentences]), origin)

    def run(self, start: int, n: int) -> list[str]:
        """``n`` sentences from ``start``, wrapping around."""
        size = len(self.sentences)
        return [self.sentences[(start + i) % size] for i in range(n)]

    def sentences_within(self, start: int, budget: int) -> int:
        """The most sentences from ``start`` whose tokens fit in ``budget``."""
        total, n, size = 0, 0, len(self.sentences)
        per_cycle = sum(self.tokens)
        cycles = max(0, budget // max(1, per_cycle) - 1)
        total, n = cycles * per_cycle, cycles * size
        while total + self.tokens[(start + n) % size] <= budget:
            total += self.tokens[(start + n) % size]
            n += 1
        return n


def sentence_pool(cfg_documents: list[str], max_documents: int, services: Services | None,
                  counter: TokenCounter) -> SentencePool:
    paths = source_files(cfg_documents, services)
    if paths:
        return SentencePool.build(read_texts(paths, max_documents), counter, ", ".join(str(p) for p in paths))
    return SentencePool.build([essay_text()], counter, str(ESSAYS))
