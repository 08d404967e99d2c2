"""The ``long_documents`` stage: repository-level code documents (``repo_documents``) that
the long-context pretraining steps train on (docs/recipe.md section 4.2), written as
``documents.jsonl.gz`` records (``text``, ``domain`` ``code``, ``metadata`` with the package,
the part and the modules). The stage declares ``provides=("long_documents",)``; the
pretraining stage reads whatever provides it, so neither plugin names the other."""

from __future__ import annotations

import gzip
import json

from herd.core.atomic import atomic_open
from herd.core.pipeline import StageContext, StageResult
from herd.plugins.long_context.long_documents_config import LongDocumentsConfig
from herd.plugins.long_context.repo_documents import repo_documents

OUTPUT = "documents.jsonl.gz"


def run_long_documents(ctx: StageContext) -> StageResult:
    cfg: LongDocumentsConfig = ctx.config.section("long_documents")
    counts = {"documents": 0, "characters": 0, "packages": 0}
    # mtime=0: the file's bytes are a function of the packages' sources only.
    with atomic_open(ctx.workdir / OUTPUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        for package in cfg.packages:
            docs = repo_documents(package, cfg.max_chars)
            counts["packages"] += 1
            for doc in docs:
                record = {"text": doc.text, "domain": "code",
                          "metadata": {"source": "repository", "package": doc.package, "part": doc.part,
                                       "modules": list(doc.modules)}}
                handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
                counts["documents"] += 1
                counts["characters"] += len(doc.text)
    return StageResult(counts=counts)
