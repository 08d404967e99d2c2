"""The SFT data funnel, like curation's for pretraining: run the configured judges in
order over rows, then semantic dedup, and account for every row — kept, or dropped with
the judge and reason that removed it. ``counts`` satisfies
``counts["input"] == counts["kept"] + counts["dropped"]``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from herd.core.protocols import Judge, Score
from herd.core.records import SFTRow
from herd.lib.sft_funnel.config import SFTFunnelConfig
from herd.lib.chat.rows import conversation_text, last_response, user_text


@dataclass
class DroppedRow:
    row: SFTRow
    judge: str
    reason: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.row.id, "judge": self.judge, "reason": self.reason, "detail": self.detail}


@dataclass
class JudgeStep:
    """One step of the funnel: the rows it saw, dropped, and labelled (gave at least one
    score that is not None)."""

    judge: str
    rows_in: int
    dropped: int
    labelled: int


# The typed labels the judges set on a row (``SFTRow``), counted over the kept rows.
LABELS = ("language", "topic", "quality", "difficulty")


@dataclass
class FunnelResult:
    kept: list[SFTRow]
    dropped: list[DroppedRow]
    counts: dict[str, int] = field(default_factory=dict)
    steps: list[JudgeStep] = field(default_factory=list)

    def labels(self) -> dict[str, dict[str, int]]:
        """Per label, the kept rows by value ("none": no judge set it)."""
        return {name: dict(sorted(Counter(_label(getattr(row, name)) for row in self.kept).items()))
                for name in LABELS}


def _label(value: Any) -> str:
    return "none" if value is None else str(value)


def store_scores(row: SFTRow, scores: list[Score]) -> None:
    """Write each score on the row as ``"<judge>.<signal>"``; reasons (and why a value is
    None) go to ``row.metadata["judge_notes"]`` under the same key."""
    for score in scores:
        key = f"{score.judge}.{score.signal}"
        row.scores[key] = score.value
        if score.reason:
            row.metadata.setdefault("judge_notes", {})[key] = score.reason


def verdict(scores: list[Score], cfg: SFTFunnelConfig) -> tuple[str, str] | None:
    """(reason, detail) when these scores drop the row, else None."""
    for score in scores:
        key = f"{score.judge}.{score.signal}"
        if score.signal == "pass" and score.value is not None and score.value < 1.0:
            return f"{score.judge}.rejected", score.reason
        if key in cfg.min_scores:
            if score.value is None:
                if cfg.drop_unparsed:
                    return f"{key}.unparsed", score.reason
            elif score.value < cfg.min_scores[key]:
                detail = f"{key} = {score.value:g} < {cfg.min_scores[key]:g}"
                return f"{key}.below_min", f"{detail}; {score.reason}" if score.reason else detail
        elif score.value is None and cfg.drop_unparsed and score.signal in ("pass", "rating"):
            return f"{key}.unparsed", score.reason
    return None


def dedup_text(row: SFTRow, what: str) -> str:
    if what == "prompt":
        return user_text(row)
    if what == "response":
        return last_response(row)
    return conversation_text(row)


def priority_of(row: SFTRow, keys: list[str]) -> float:
    value = 1.0
    for key in keys:
        score = row.scores.get(key)
        value *= 1.0 if score is None else float(score)
    return value


def run_funnel(
    rows: list[SFTRow],
    judges: list[tuple[str, Judge]],
    cfg: SFTFunnelConfig,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> FunnelResult:
    """Judge ``rows`` with each ``(name, judge)`` in order (a judge sees only the rows the
    earlier ones kept), then semantic-dedup the survivors with ``embed`` (texts ->
    normalised vectors; required when ``cfg.semantic_dedup``)."""
    counts: Counter[str] = Counter(input=len(rows))
    dropped: list[DroppedRow] = []
    steps: list[JudgeStep] = []
    alive = list(rows)
    for name, judge in judges:
        if not alive:
            steps.append(JudgeStep(name, 0, 0, 0))
            continue
        all_scores = judge.score(alive)
        if len(all_scores) != len(alive):
            raise ValueError(f"judge '{name}' returned {len(all_scores)} score lists for {len(alive)} rows")
        survivors = []
        labelled = 0
        for row, scores in zip(alive, all_scores):
            store_scores(row, scores)
            labelled += any(score.value is not None for score in scores)
            decision = verdict(scores, cfg)
            if decision is None:
                survivors.append(row)
                continue
            dropped.append(DroppedRow(row, name, *decision))
            counts[f"dropped.{decision[0]}"] += 1
        counts[f"after.{name}"] = len(survivors)
        steps.append(JudgeStep(name, len(alive), len(alive) - len(survivors), labelled))
        alive = survivors
    if cfg.semantic_dedup and len(alive) > 1:
        if embed is None:
            raise ValueError("semantic_dedup is on but run_funnel got no embed function")
        before = len(alive)
        alive = _dedup(alive, cfg, embed, dropped, counts)
        steps.append(JudgeStep("semantic_dedup", before, before - len(alive), before - counts["semantic_dedup.exempt"]))
    counts["kept"] = len(alive)
    counts["dropped"] = len(dropped)
    return FunnelResult(alive, dropped, dict(counts), steps)


def _dedup(rows, cfg: SFTFunnelConfig, embed, dropped, counts) -> list[SFTRow]:
    from herd.lib.sft_funnel.semdedup import semantic_dedup

    d = cfg.dedup
    exempt = [row for row in rows if any(row.metadata.get(key) is not None for key in d.exempt_metadata)]
    counts["semantic_dedup.exempt"] = len(exempt)
    rows = [row for row in rows if not any(row.metadata.get(key) is not None for key in d.exempt_metadata)]
    if len(rows) < 2:
        counts["after.semantic_dedup"] = len(rows) + len(exempt)
        return rows + exempt
    vectors = embed([dedup_text(row, d.text) for row in rows])
    priority = np.array([priority_of(row, cfg.priority) for row in rows])
    result = semantic_dedup(
        vectors, priority, threshold=d.threshold, rows_per_cluster=d.rows_per_cluster,
        max_clusters=d.max_clusters, iterations=d.kmeans_iterations, block_size=d.block_size, seed=d.seed,
    )
    kept = []
    for i, row in enumerate(rows):
        row.scores["semantic_dedup.cluster"] = float(result.cluster[i])
        if result.keep[i]:
            kept.append(row)
            continue
        other = rows[int(result.duplicate_of[i])]
        detail = f"cosine {result.similarity[i]:.3f} >= {d.threshold:g} to kept row {other.id}"
        dropped.append(DroppedRow(row, "semantic_dedup", "semantic_dedup.near_duplicate", detail))
        counts["dropped.semantic_dedup.near_duplicate"] += 1
    counts["after.semantic_dedup"] = len(kept) + len(exempt)
    return kept + exempt


def build_funnel(ctx, services: Any = None) -> tuple[list[tuple[str, Judge]], SFTFunnelConfig, Callable | None]:
    """The judges, config and embed function a stage's funnel uses, from its
    ``StageContext`` (``[sft_funnel]`` and each ``[judges.<name>]``)."""
    cfg: SFTFunnelConfig = ctx.config.section("sft_funnel")
    judges = [(name, ctx.build("judges", name, services)) for name in cfg.funnel]
    embed = None
    if cfg.semantic_dedup:
        from herd.lib.sft_funnel.embed import shared_embedder

        embed = shared_embedder(cfg.dedup.model, cfg.dedup.device, cfg.dedup.batch_size).encode
    return judges, cfg, embed
