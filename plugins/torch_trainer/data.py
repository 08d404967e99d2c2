"""The pretraining data of the ``pretrain`` stage: the mix's documents -> tokenizer ->
token shards for each training stage (docs/recipe.md section 4).

``tokens/train`` and ``tokens/val`` split the mix; ``tokens/long`` is the training documents
plus the long documents other stages provide (``long_files``: the long_context plugin's
repository-level code, 4.2), shuffled together, for the long-context stages. It holds
nothing else: the NIAH gate's haystacks are never training data, so passing the gate
measures retrieval, not recall of the test; ``tokens/anneal`` repeats the high-quality
documents (4.3).

A document is high quality for annealing (docs/recipe.md 4.3 up-samples high-quality code
and mathematics) when its ``domain`` is one of ``anneal_domains`` — the curation labels
``code`` and ``math_reasoning`` by default — or when one of its ``*quality*`` scores (the
curation steps write them to the record's ``scores``, e.g.
``domain_classifier.reasoning_quality``; ``metadata`` is read too) is at least
``anneal_min_quality``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from herd.plugins.torch_trainer.config import PretrainConfig


@dataclass(frozen=True)
class CorpusDocument:
    """What pretraining reads of one mix record: its text and the labels annealing selects on."""

    text: str
    domain: str | None = None
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class TokenData:
    """What ``build_token_data`` wrote: document and token counts per shard folder, and notes."""

    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scores(record: dict) -> dict[str, float]:
    """Numeric scores of a record: its ``scores`` (a dict in JSON lines, ``(key, value)`` pairs
    in parquet) and numeric ``metadata`` values."""
    raw = record.get("scores") or {}
    pairs = raw.items() if isinstance(raw, dict) else raw
    out = {str(k): float(v) for k, v in pairs if _numeric(v)}
    meta = record.get("metadata") or {}
    if isinstance(meta, str):  # parquet rows keep metadata as JSON text
        meta = json.loads(meta) if meta.strip() else {}
    out.update({str(k): float(v) for k, v in meta.items() if _numeric(v) and str(k) not in out})
    return out


def read_corpus(files: Iterable[Path]) -> Iterator[CorpusDocument]:
    """The non-empty documents of the mix's files, in order."""
    from herd.lib.llama.packing import read_records

    for path in files:
        for record in read_records(path):
            if not record["text"].strip():
                continue
            meta = record.get("metadata")
            domain = record.get("domain") or (meta.get("domain") if isinstance(meta, dict) else None)
            yield CorpusDocument(record["text"], domain, _scores(record))


def is_high_quality(doc: CorpusDocument, cfg: PretrainConfig) -> bool:
    if doc.domain is not None and doc.domain in cfg.anneal_domains:
        return True
    return any(v >= cfg.anneal_min_quality for k, v in doc.scores.items() if "quality" in k)


def build_token_data(files: list[Path], cfg: PretrainConfig, seed: int, work: Path,
                     long_files: list[Path] | None = None) -> TokenData:
    """Write ``work/tokenizer`` and ``work/tokens/{train,val,long,anneal}``; a folder already
    complete (an interrupted stage resumed) is kept. ``long_files``: records of long
    documents for the long-context stages only (the tokenizer is not trained on them)."""
    from herd.lib.llama.packing import read_documents, write_document_shards, write_token_shards
    from herd.lib.llama.tokenizer import Tokenizer

    every = max(2, round(1 / cfg.val_fraction)) if cfg.val_fraction > 0 else 0

    def is_val(i: int) -> bool:
        return every > 0 and i % every == every - 1

    def documents() -> Iterator[tuple[int, CorpusDocument]]:
        return enumerate(read_corpus(files))

    tok_dir = work / "tokenizer"
    if not (tok_dir / "tokenizer.json").is_file():
        if cfg.tokenizer_path:
            tok = Tokenizer.load(cfg.tokenizer_path)
        else:
            sample = (d.text for i, d in documents() if i < cfg.tokenizer_docs and not is_val(i))
            tok = Tokenizer.train(sample, cfg.vocab_size)
        tok.save(tok_dir)
    tok = Tokenizer.load(tok_dir)

    tokens = work / "tokens"
    out = TokenData()

    def shard(name: str, texts=None, docs=None) -> None:
        target = tokens / name
        if not (target / "tokens.json").is_file():
            tmp = tokens / f".{name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            if docs is not None:
                write_document_shards(docs, tok.vocab_size, tmp)
            else:
                write_token_shards(texts, tok, tmp)
            os.replace(tmp, target)
        meta = json.loads((target / "tokens.json").read_text())
        out.counts[f"{name}_tokens"], out.counts[f"{name}_documents"] = meta["tokens"], meta["docs"]

    shard("train", (d.text for i, d in documents() if not is_val(i)))
    val = (d.text for i, d in documents() if is_val(i)) if every else (d.text for i, d in documents() if i < 8)
    shard("val", val)
    # The long-context and annealing data reuse the training documents' tokens (the i-th
    # training document is the i-th non-validation document of the mix), so the corpus is
    # tokenised once.
    if cfg.long_context_lengths:
        shuffled = list(read_documents(tokens / "train"))
        bos, eos = tok.special.bos, tok.special.eos
        extra = [np.array([bos, *ids, eos], dtype=np.int64)
                 for ids in tok.encode_batch([d.text for d in read_corpus(long_files or [])])]
        shuffled += extra
        random.Random(seed).shuffle(shuffled)
        shard("long", docs=shuffled)
        if extra:
            out.counts["long_extra_documents"] = len(extra)
            out.counts["long_extra_tokens"] = int(sum(len(d) for d in extra))
    if cfg.anneal_tokens > 0:
        labels = [(is_high_quality(d, cfg), d.domain) for i, d in documents() if not is_val(i)]
        _anneal_shard(cfg, labels, tokens, shard, out)
    return out


def _anneal_shard(cfg: PretrainConfig, labels: list[tuple[bool, str | None]], tokens: Path, shard,
                  out: TokenData) -> None:
    """``labels``: (high quality, domain) of each training document, in shard order."""
    from herd.lib.llama.packing import read_documents

    quality = [good for good, _ in labels]
    high = sum(quality)
    seen = {domain for _, domain in labels if domain}
    absent = [d for d in cfg.anneal_domains if d not in seen]
    if seen and absent:
        out.notes.append(f"anneal: [pretrain] anneal_domains {absent} label no document of the mix "
                         f"(its domains: {sorted(seen)})")
    if high == 0:
        out.notes.append("anneal: no document is high quality (a domain of anneal_domains or a *quality* "
                         "score >= anneal_min_quality); annealing on the whole mix")

    def anneal_documents():
        for good, doc in zip(quality, read_documents(tokens / "train")):
            for _ in range(cfg.anneal_upsample if good or high == 0 else 1):
                yield doc

    shard("anneal", docs=anneal_documents())
    out.counts["anneal_high_quality_documents"] = high
    # Per-domain document counts of the annealing data show the up-sampling in the manifest.
    for domain in sorted(seen):
        out.counts[f"anneal_{domain}_documents"] = sum(
            cfg.anneal_upsample if good or high == 0 else 1 for good, d in labels if d == domain)
