"""The ``long_context`` synthesizer (docs/recipe.md section 6, long context; issue 18): SFT
rows of three kinds (``doc_rows``: QA over chunks, hierarchical summaries; ``repo_qa``:
code-repository reasoning), each sized to a length bucket in the model's own tokens.

Rows per call: ``ceil(budget * share)``, at least ``min_rows``; row ``i`` is of kind
``kinds[i % len(kinds)]`` and bucket ``lengths[i // len(kinds) % len(lengths)]`` (the
buckets cut to the model's context), and is a function of (seed, i, kind, bucket) and the
sources. A row that cannot be built within its bucket is dropped with its reason:
``long_context_dropped.jsonl``; the counts go to ``long_context.json``.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

from herd.core.errors import ConfigError
from herd.core.records import ChatMessage, SFTRow
from herd.core.services import Services
from herd.lib.chat.format import render_text
from herd.plugins.long_context import doc_rows
from herd.plugins.long_context.documents import SentencePool, sentence_pool
from herd.plugins.long_context.repo_qa import candidates, file_block, graph_of, hubs_of, question
from herd.plugins.long_context.sections import Sectioned
from herd.plugins.long_context.sft_config import LongContextSFTConfig
from herd.lib.long_context.token_counter import TokenCounter

CAPABILITY = "long_context"
ATTEMPTS = 8  # resizes of one row before it is dropped as not fitting its bucket


@dataclass(frozen=True)
class Dropped:
    index: int
    kind: str
    bucket: int
    reason: str
    detail: str


@dataclass(frozen=True)
class RowTokenizer:
    """Counts a row's tokens as it is rendered in the Llama 3.1 chat format (the special
    tokens spelled out, which a tokenizer that knows them reads as one token each)."""

    counter: TokenCounter
    context: int | None  # the model's max_position_embeddings, when known

    def tokens(self, messages: list[ChatMessage]) -> int:
        return self.counter.count(render_text(messages, add_generation_prompt=False))

    def buckets(self, lengths: list[int]) -> list[int]:
        """``lengths`` cut to the context, in order, without repeats."""
        cut = [min(n, self.context) if self.context else n for n in lengths]
        return list(dict.fromkeys(cut))


def rows_for(budget: int, cfg: LongContextSFTConfig) -> int:
    if budget <= 0:
        return 0
    return max(cfg.min_rows, math.ceil(budget * cfg.share))


def row_tokenizer(cfg: LongContextSFTConfig, services: Services | None) -> RowTokenizer:
    """``[synthesizers.long_context] tokenizer``, else the model the stage trains (its
    tokenizer.json); the context is that model's ``max_position_embeddings``."""
    candidates_ = [Path(cfg.tokenizer)] if cfg.tokenizer else []
    if services is not None:
        candidates_ += [p for p in (services.generator_dir, services.model_dir("pretrain")) if p is not None]
    for path in candidates_:
        if cfg.tokenizer or (path / "tokenizer.json").is_file():
            folder = path if path.is_dir() else path.parent
            return RowTokenizer(TokenCounter.load(path), _context(folder))
    raise ConfigError("synthesizer 'long_context' needs a tokenizer to size its rows: run it in post-training "
                      "(it uses the model's), or set [synthesizers.long_context] tokenizer to a tokenizer.json "
                      "or tokenizer directory")


def _context(folder: Path) -> int | None:
    try:
        value = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("max_position_embeddings")
    except (OSError, json.JSONDecodeError):
        return None
    return value if isinstance(value, int) and value > 0 else None


class LongContextSynthesizer:
    def __init__(self, cfg: LongContextSFTConfig | None, services: Services | None = None):
        self.cfg = cfg or LongContextSFTConfig()
        problems = self.cfg.validate(None, None)
        if problems:
            raise ConfigError("; ".join(problems))
        self.services = services
        self._pool: SentencePool | None = None

    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow]:
        workdir.mkdir(parents=True, exist_ok=True)
        planned = rows_for(budget, self.cfg)
        kept: list[SFTRow] = []
        dropped: list[Dropped] = []
        tokenizer = row_tokenizer(self.cfg, self.services) if planned else None
        buckets = tokenizer.buckets(self.cfg.lengths) if tokenizer else []
        for i in range(planned):
            kind = self.cfg.kinds[i % len(self.cfg.kinds)]
            bucket = buckets[(i // len(self.cfg.kinds)) % len(buckets)]
            outcome = self.row(i, kind, bucket, tokenizer)
            (kept if isinstance(outcome, SFTRow) else dropped).append(outcome)
        self._write(workdir, planned, kept, dropped, buckets, tokenizer)
        yield from kept

    def row(self, index: int, kind: str, bucket: int, tokenizer: RowTokenizer) -> SFTRow | Dropped:
        rng = random.Random(f"{self.cfg.seed}:{index}:{kind}:{bucket}")
        if kind == "repo":
            return self._repo_row(index, bucket, rng, tokenizer)
        builder = doc_rows.chunk_qa if kind == "chunk_qa" else doc_rows.summary
        return self._doc_row(index, kind, bucket, rng, tokenizer, builder)

    def pool(self, counter: TokenCounter) -> SentencePool:
        if self._pool is None:
            self._pool = sentence_pool(self.cfg.documents, self.cfg.max_documents, self.services, counter)
        return self._pool

    def _doc_row(self, index: int, kind: str, bucket: int, rng: random.Random, tokenizer: RowTokenizer,
                 builder: Callable[[Sectioned, random.Random], doc_rows.DocRow | None]) -> SFTRow | Dropped:
        pool = self.pool(tokenizer.counter)
        start = rng.randrange(len(pool.sentences))
        seed = rng.random()
        target = bucket
        for _ in range(ATTEMPTS):
            n = pool.sentences_within(start, target)
            if n < 4:
                return Dropped(index, kind, bucket, "bucket_too_small",
                               f"{bucket} tokens hold {n} sentences of the documents with the question; 4 are needed")
            size = len(pool.sentences)
            doc = Sectioned.split(pool.run(start, n), [pool.tokens[(start + i) % size] for i in range(n)],
                                  self.cfg.chunks)
            built = builder(doc, random.Random(seed))
            if built is None:
                return Dropped(index, kind, bucket, "no_question", f"no unambiguous question in {n} sentences")
            tokens = tokenizer.tokens(built.messages)
            if tokens <= bucket:
                meta = {"kind": kind, "bucket": bucket, "tokens": tokens, "documents": pool.origin, **built.metadata}
                return self._sft(index, kind, built.messages, meta)
            target = _shrunk(target, tokens, bucket)
        return Dropped(index, kind, bucket, "does_not_fit", f"still over {bucket} tokens after {ATTEMPTS} resizes")

    def _repo_row(self, index: int, bucket: int, rng: random.Random, tokenizer: RowTokenizer) -> SFTRow | Dropped:
        package = rng.choice(self.cfg.packages)
        graph = graph_of(package)
        removed = rng.choice(hubs_of(package, self.cfg.min_dependents))
        order = candidates(graph, removed)
        rng.shuffle(order)
        # each block is joined to the next by a blank line (about two tokens)
        sizes = dict(zip(order, (n + 2 for n in tokenizer.counter.count_batch([file_block(graph, m) for m in order]))))
        # at least one dependent is always shown: a random one of those that take at most
        # half the bucket, else the smallest
        dependents = sorted(graph.dependents(removed), key=lambda m: (sizes[m], m))
        small = [m for m in dependents if sizes[m] <= bucket // 2]
        first = rng.choice(small) if small else dependents[0]
        order.insert(0, order.pop(order.index(first)))
        target = bucket
        for _ in range(ATTEMPTS):
            shown, total = [], 0
            for module in order:
                n = sizes[module]
                if total + n > target:
                    break
                shown.append(module)
                total += n
            if not shown:
                return Dropped(index, "repo", bucket, "bucket_too_small",
                               f"{order[0]}'s import lines alone take {sizes[order[0]]} tokens")
            q = question(graph, removed, shown)
            messages = [ChatMessage("user", f"{q.context}\n\nQuestion: {q.question}"),
                        ChatMessage("assistant", q.answer)]
            tokens = tokenizer.tokens(messages)
            if tokens <= bucket:
                meta = {"kind": "repo", "bucket": bucket, "tokens": tokens, "package": package,
                        "removed_module": removed, "dependents": q.dependents, "provides": q.provides,
                        "shown": q.shown, "complete": q.complete}
                return self._sft(index, "repo", messages, meta)
            target = _shrunk(target, tokens, bucket)
        return Dropped(index, "repo", bucket, "does_not_fit", f"still over {bucket} tokens after {ATTEMPTS} resizes")

    def _sft(self, index: int, kind: str, messages: list[ChatMessage], metadata: dict) -> SFTRow:
        return SFTRow(f"long_context-{self.cfg.seed}-{index}", messages, capability=CAPABILITY, category=kind,
                      source="long_context", metadata=metadata)

    def _write(self, workdir: Path, planned: int, kept: list[SFTRow], dropped: list[Dropped], buckets: list[int],
               tokenizer: RowTokenizer | None) -> None:
        counts: dict[str, object] = {
            "planned": planned, "kept": len(kept), "dropped": len(dropped), "buckets": buckets,
            "tokenizer": tokenizer.counter.source if tokenizer else None,
            "kept_by_kind": _tally(r.category for r in kept),
            "kept_by_bucket": _tally(str(r.metadata["bucket"]) for r in kept),
            "dropped_by_reason": _tally(d.reason for d in dropped),
        }
        (workdir / "long_context.json").write_text(json.dumps(counts, indent=2, sort_keys=True))
        with (workdir / "long_context_dropped.jsonl").open("w", encoding="utf-8") as handle:
            for drop in dropped:
                handle.write(json.dumps(asdict(drop), ensure_ascii=False) + "\n")


def _shrunk(target: int, tokens: int, bucket: int) -> int:
    """The next content budget of a row measured at ``tokens`` over its ``bucket``: scaled
    down in proportion (the answers of the summary and repository kinds grow with the
    content), 1% below, and always smaller than before."""
    return min(target - 1, target * bucket // tokens - max(1, bucket // 100))


def _tally(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out
