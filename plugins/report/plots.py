"""The report's figures (matplotlib, Agg backend): each function returns PNG bytes or
``None`` when its data is absent."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from herd.plugins.report.collect import ReportData, is_headline  # noqa: E402


def png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def funnel(data: ReportData) -> bytes | None:
    rows = [r for r in data.funnel if "records_in" in r]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    names = [r["step"] for r in rows]
    ax.barh(names, [r["records_in"] for r in rows], color="#cccccc", label="records in")
    ax.barh(names, [r.get("records_out", 0) for r in rows], color="#3b7dd8", label="records out")
    ax.invert_yaxis()
    ax.set_xlabel("records")
    ax.set_title("Curation funnel")
    ax.legend(loc="lower right")
    return png_bytes(fig)


def mix(data: ReportData) -> bytes | None:
    if not data.mix_target:
        return None
    domains = sorted(set(data.mix_target) | set(data.mix_achieved))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = range(len(domains))
    ax.bar([x - 0.2 for x in xs], [data.mix_target.get(d, 0) for d in domains], 0.4, label="target")
    ax.bar([x + 0.2 for x in xs], [data.mix_achieved.get(d, 0) for d in domains], 0.4, label="achieved")
    ax.set_xticks(list(xs), domains, rotation=20)
    ax.set_ylabel("share of tokens")
    ax.set_title("Pretraining mix: achieved vs target")
    ax.legend()
    return png_bytes(fig)


def losses(data: ReportData) -> bytes | None:
    if not data.loss_curves:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    offset = 0
    for name, points in data.loss_curves.items():
        steps = [offset + s for s, _ in points]
        ax.plot(steps, [v for _, v in points], label=name)
        offset = (steps[-1] + 1) if steps else offset
    ax.set_xlabel("step (stages in order)")
    ax.set_ylabel("training loss")
    ax.set_title("Pretraining loss per stage")
    ax.legend()
    return png_bytes(fig)


def niah(data: ReportData) -> bytes | None:
    if not data.niah:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    by_stage: dict[str, list[dict]] = {}
    for row in data.niah:
        by_stage.setdefault(str(row["stage"]), []).append(row)
    for stage, rows in by_stage.items():
        ax.plot([r["tokens"] for r in rows], [r["niah_accuracy"] for r in rows], marker="o",
                label=f"{stage} ({rows[-1]['seq_len']} tokens)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("tokens trained in the long-context step")
    ax.set_ylabel("needle retrieval accuracy")
    ax.set_title("Needle in a haystack during context extension")
    ax.legend(fontsize=7)
    return png_bytes(fig)


def rounds(data: ReportData) -> bytes | None:
    series: dict[str, list[tuple[int, float]]] = {}
    for row in data.rounds:
        for key, value in row.metrics.items():
            if is_headline(key):
                series.setdefault(key, []).append((row.round, value))
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for key, points in sorted(series.items()):
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=key)
    ax.set_xticks(sorted({p[0] for points in series.values() for p in points}))
    ax.set_xlabel("post-training round (0 = before post-training)")
    ax.set_title("Post-training metrics per round")
    ax.legend(fontsize=7)
    return png_bytes(fig)


def sft_mix(data: ReportData) -> bytes | None:
    fig = sft_mix_figure(data)
    return None if fig is None else png_bytes(fig)


def sft_mix_figure(data: ReportData):
    """The SFT-mix figure (a matplotlib Figure, or None without rounds)."""
    mixes = [(r.round, r.sft_mix) for r in data.rounds if r.sft_mix]
    if not mixes:
        return None
    capabilities = sorted({c for _, m in mixes for c in m})
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bottom = [0.0] * len(mixes)
    for cap in capabilities:
        values = [float(m.get(cap, 0)) for _, m in mixes]
        ax.bar([str(n) for n, _ in mixes], values, bottom=bottom, label=cap)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xlabel("round")
    ax.set_ylabel("SFT rows")
    ax.set_title("SFT data mix by capability")
    # Beside the axes, not on them: stacked bars fill the plot area a legend would cover.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig


def timings(data: ReportData) -> bytes | None:
    if not data.stages:
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh([s.stage for s in data.stages], [s.seconds for s in data.stages], color="#6a9f58")
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title("Stage timings")
    return png_bytes(fig)


FIGURES: dict[str, Any] = {
    "funnel": funnel,
    "mix": mix,
    "losses": losses,
    "niah": niah,
    "rounds": rounds,
    "sft_mix": sft_mix,
    "timings": timings,
}
