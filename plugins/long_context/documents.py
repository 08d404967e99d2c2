"""The prose long-context SFT rows are cut from: ``[synthesizers.long_context] documents``,
else the curated corpus (``kept/*.jsonl.gz`` of the curate stage) when the stage reads it,
else Python's own reference documentation (``pydoc_data.topics``, shipped with CPython).
Texts become one stream of sentences that a row reads a run of, wrapping around at the end.

Never the RULER haystacks (``lib.long_context``'s essays and noise): the NIAH gate of the
long-context pretraining steps and the ``long_context`` evaluator hide their needles there,
and training rows cut from them would train on the test (issue 18, a clean gate)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from herd.core.errors import InputError
from herd.lib.documents import read_documents
from herd.core.services import Services
from herd.lib.long_context.token_counter import TokenCounter

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
    return SentencePool.build(reference_texts(max_documents), counter, FALLBACK)


FALLBACK = "pydoc_data.topics"


def reference_texts(limit: int) -> list[str]:
    """Python's language reference topics (``pydoc_data.topics``), in topic order: prose that
    ships with every CPython and that no long-context test uses. Only prose paragraphs are
    kept (indented code, grammar and tables, which hold no sentence breaks, are left out)."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        raise InputError("synthesizer 'long_context' has no documents: this Python has no pydoc_data (its "
                         "reference topics are the fallback corpus); set [synthesizers.long_context] documents "
                         "to JSONL or text files, or run it in a pipeline whose stage reads the curate stage") from None
    texts = []
    for name in sorted(topics):
        paragraphs = [p for p in re.split(r"\n\s*\n", topics[name]) if _prose(p)]
        if paragraphs:
            texts.append("\n\n".join(paragraphs))
    return texts[:limit]


def _prose(paragraph: str) -> bool:
    lines = paragraph.strip("\n").splitlines()
    return bool(lines) and not any(line.startswith((" ", "\t")) for line in lines) \
        and bool(_SENTENCE_END.search(paragraph.rstrip()))


_SENTENCE_END = re.compile(r"[.!?][\"')]*$")
