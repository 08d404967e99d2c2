"""Writing the training mix: a mixer's ``MixPlan`` applied to the curated documents.

Up-sampled documents are written once per pass over the corpus (copy 0 of every document,
then copy 1 of those repeated twice or more...), so repeats are spread through the mix
instead of sitting next to each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from herd.core import atomic
from herd.core.errors import StageError
from herd.core.protocols import MixPlan
from herd.plugins.curation.funnel import count_tokens
from herd.lib.documents import read_kept
from herd.plugins.curation.io import KeptWriter


def write_mix(mixer: Any, kept_dir: Path, workdir: Path, shard_size: int, fmt: str) -> dict[str, Any]:
    if not kept_dir.is_dir():
        raise StageError(f"the curate output {kept_dir} has no kept/ folder; re-run the curate stage")
    plan = mixer.plan(read_kept(kept_dir))
    if not isinstance(plan, MixPlan):
        raise StageError(f"mixer {type(mixer).__name__}.plan returned {type(plan).__name__}, not a MixPlan")
    unplanned = 0
    docs_in = 0
    rounds = max(plan.repeats.values(), default=0)
    out = _ShardedWriter(workdir / "mixed", shard_size, fmt)
    tokens_out = 0
    try:
        for copy in range(max(rounds, 1)):  # copy 0 also counts the input
            for doc in read_kept(kept_dir):
                repeats = plan.repeats.get(doc.id)
                if copy == 0:
                    docs_in += 1
                    unplanned += repeats is None
                if not repeats or repeats <= copy:
                    continue
                if copy:
                    doc.metadata["mix_copy"] = copy
                    doc.id = f"{doc.id}#{copy}"
                out.write(doc)
                tokens_out += count_tokens(doc.text)
        out.commit()
    except BaseException:
        out.abort()
        raise
    report = {
        "mixer": type(mixer).__name__,
        "documents_in": docs_in,
        "documents_out": out.total,
        "documents_not_in_plan": unplanned,
        "tokens_out": tokens_out,
        "tokens": "whitespace-separated words",
        "target": plan.target,
        "achieved": plan.achieved,
        "max_repeats": rounds,
    }
    atomic.write_json(workdir / "mix.json", report)
    return report


class _ShardedWriter:
    def __init__(self, directory: Path, shard_size: int, fmt: str):
        self.directory = directory
        self.shard_size = shard_size
        self.fmt = fmt
        self.writers: list[KeptWriter] = []
        self.total = 0

    def write(self, doc) -> None:
        if not self.writers or self.writers[-1].count >= self.shard_size:
            self.writers.append(KeptWriter(self.directory, f"{len(self.writers):05d}", self.fmt))
        self.writers[-1].write(doc)
        self.total += 1

    def commit(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for writer in self.writers:
            writer.commit()

    def abort(self) -> None:
        for writer in self.writers:
            writer.abort()
