"""Token shards on disk and packed training batches with document boundaries.

``write_token_shards`` tokenises documents (each framed as ``<|begin_of_text|> text
<|end_of_text|>``) into memory-mapped ``uint16``/``uint32`` shards plus the offsets where
each document starts. ``TokenStream`` reads them back as one stream, and ``PackedBatches``
cuts it into ``(batch, seq_len)`` rows carrying the document id of every token: the model
masks attention across documents with them (docs/recipe.md section 2) and the labels that would
predict the next document's first token from the previous one are masked (-100), so a
packed row's loss is the documents' own losses.

The batch position (``epoch``, ``offset`` in tokens) is the whole data state a checkpoint
needs to resume exactly where it stopped.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from herd.core.errors import InputError

META = "tokens.json"


def read_records(path: Path) -> Iterator[dict]:
    """Every record (a dict with a string ``text``) of a ``.jsonl``, ``.jsonl.gz`` or
    ``.parquet`` file; a bad record raises ``InputError`` naming the file and line/row."""
    path = Path(path)
    if path.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for row, record in enumerate(pq.read_table(path).to_pylist()):
            if not isinstance(record.get("text"), str):
                raise InputError(f"{path}: row {row} has no string 'text' field")
            yield record
        return
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise InputError(f"{path}:{lineno}: record has no string 'text' field")
            yield record


def read_texts(path: Path) -> Iterator[tuple[str, dict]]:
    """``(text, metadata)`` of every record of a corpus file."""
    for record in read_records(path):
        meta = record.get("metadata") or {}
        if isinstance(meta, str):  # parquet rows keep metadata as JSON text
            meta = json.loads(meta) if meta.strip() else {}
        if record.get("domain") and "domain" not in meta:
            meta = {**meta, "domain": record["domain"]}
        yield record["text"], meta


def corpus_files(directory: Path) -> list[Path]:
    files = sorted(p for p in Path(directory).rglob("*")
                   if p.name.endswith((".jsonl", ".jsonl.gz", ".parquet")) and not p.name.startswith("."))
    if not files:
        raise InputError(f"{directory}: no .jsonl, .jsonl.gz or .parquet files with training text")
    return files


def write_token_shards(texts: Iterable[str], tokenizer, out_dir: Path, shard_tokens: int = 1 << 24,
                       batch: int = 256) -> dict:
    """Tokenise ``texts`` into ``out_dir/shard_NNNNN.bin`` (+ ``.idx.npy`` document starts);
    every document is stored as ``begin_of_text ids end_of_text``."""
    bos, eos = tokenizer.special.bos, tokenizer.special.eos

    def documents() -> Iterator[np.ndarray]:
        chunk: list[str] = []
        for text in texts:
            chunk.append(text)
            if len(chunk) >= batch:
                yield from (np.array([bos, *ids, eos], dtype=np.int64) for ids in tokenizer.encode_batch(chunk))
                chunk.clear()
        if chunk:
            yield from (np.array([bos, *ids, eos], dtype=np.int64) for ids in tokenizer.encode_batch(chunk))

    return write_document_shards(documents(), tokenizer.vocab_size, out_dir, shard_tokens)


def write_document_shards(documents: Iterable[np.ndarray], vocab_size: int, out_dir: Path,
                          shard_tokens: int = 1 << 24) -> dict:
    """Write already tokenised documents (``begin_of_text ... end_of_text`` id arrays) as
    shards; used to derive shards from other shards without tokenising the text again."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dtype = np.uint16 if vocab_size <= 1 << 16 else np.uint32
    shards: list[dict] = []
    pending: list[np.ndarray] = []
    pending_tokens = 0

    def flush() -> None:
        nonlocal pending, pending_tokens
        if not pending:
            return
        name = f"shard_{len(shards):05d}"
        tokens = np.concatenate(pending).astype(dtype)
        starts = np.cumsum([0] + [len(p) for p in pending[:-1]]).astype(np.int64)
        tokens.tofile(out_dir / f"{name}.bin")
        np.save(out_dir / f"{name}.idx.npy", starts)
        shards.append({"name": name, "tokens": int(len(tokens)), "docs": len(pending)})
        pending, pending_tokens = [], 0

    for doc in documents:
        pending.append(doc)
        pending_tokens += len(doc)
        if pending_tokens >= shard_tokens:
            flush()
    flush()
    if not shards:
        raise InputError(f"{out_dir}: no documents to tokenise")
    meta = {"dtype": np.dtype(dtype).name, "vocab_size": vocab_size, "shards": shards,
            "tokens": sum(s["tokens"] for s in shards), "docs": sum(s["docs"] for s in shards)}
    (out_dir / META).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def read_documents(directory: Path) -> Iterator[np.ndarray]:
    """The documents of a shard directory, in order, as id arrays."""
    directory = Path(directory)
    meta = json.loads((directory / META).read_text())
    for shard in meta["shards"]:
        data = np.fromfile(directory / f"{shard['name']}.bin", dtype=np.dtype(meta["dtype"])).astype(np.int64)
        starts = list(np.load(directory / f"{shard['name']}.idx.npy")) + [len(data)]
        for lo, hi in zip(starts, starts[1:]):
            yield data[lo:hi]


class TokenStream:
    """All shards of a directory as one token array and one document-id array (memory-mapped)."""

    def __init__(self, directory: Path):
        directory = Path(directory)
        meta_file = directory / META
        if not meta_file.is_file():
            raise InputError(f"{directory}: no {META}; tokenise the corpus first (write_token_shards)")
        self.meta = json.loads(meta_file.read_text())
        dtype = np.dtype(self.meta["dtype"])
        tokens, doc_ids, first_doc = [], [], 0
        for shard in self.meta["shards"]:
            data = np.memmap(directory / f"{shard['name']}.bin", dtype=dtype, mode="r")
            if len(data) != shard["tokens"]:
                raise InputError(f"{directory}/{shard['name']}.bin: {len(data)} tokens, {META} says {shard['tokens']}")
            starts = np.load(directory / f"{shard['name']}.idx.npy")
            ids = np.zeros(len(data), dtype=np.int64)
            ids[starts[1:]] = 1
            tokens.append(data)
            doc_ids.append(np.cumsum(ids) + first_doc)
            first_doc += len(starts)
        self.tokens = tokens[0] if len(tokens) == 1 else np.concatenate(tokens)
        self.doc_ids = np.concatenate(doc_ids)
        self.n_docs = first_doc

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass
class DataPosition:
    epoch: int = 0
    offset: int = 0


@dataclass
class Batch:
    tokens: torch.Tensor  # (batch, seq) int64
    labels: torch.Tensor  # (batch, seq) int64, -100 where not trained on
    doc_ids: torch.Tensor  # (batch, seq) int64


class PackedBatches:
    """Consecutive ``(batch, seq_len)`` windows of a ``TokenStream``; wraps around (next
    epoch) at the end. ``position`` is saved in checkpoints and restored on resume."""

    def __init__(self, stream: TokenStream, position: DataPosition | None = None):
        self.stream = stream
        self.position = position or DataPosition()

    def next(self, batch: int, seq_len: int) -> Batch:
        need = batch * seq_len + 1
        n = len(self.stream)
        if need > n:
            raise InputError(f"training data has {n} tokens, fewer than one batch ({batch} x {seq_len} + 1); "
                             "add data or lower the batch size / sequence length")
        if self.position.offset + need > n:
            self.position = DataPosition(self.position.epoch + 1, 0)
        start = self.position.offset
        toks = torch.from_numpy(self.stream.tokens[start : start + need].astype(np.int64))
        docs = torch.from_numpy(np.ascontiguousarray(self.stream.doc_ids[start : start + need]))
        self.position = DataPosition(self.position.epoch, start + need - 1)
        return pack(toks, docs, batch, seq_len)


def pack(tokens: torch.Tensor, doc_ids: torch.Tensor, batch: int, seq_len: int) -> Batch:
    """Rows of ``tokens[:-1]`` predicting ``tokens[1:]``; a label is masked when it belongs
    to another document than its input token."""
    x, y = tokens[:-1], tokens[1:].clone()
    y[doc_ids[1:] != doc_ids[:-1]] = -100
    return Batch(x.view(batch, seq_len), y.view(batch, seq_len), doc_ids[:-1].reshape(batch, seq_len).contiguous())
