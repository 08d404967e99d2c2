"""Writes ``report.md`` (images beside it) and ``report.html`` (images inlined, so the one
file can be copied or mailed)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from herd.core import atomic
from herd.core.pipeline import StageContext, StageResult
from herd.plugins.report import plots, training_curves
from herd.plugins.report.classifiers import classifier_section
from herd.plugins.report.collect import NIAH_FIELDS, ReportData, collect, is_headline
from herd.plugins.report.dropped_examples import collect_dropped, dropped_section
from herd.plugins.report.header import header_section, run_header
from herd.plugins.report.samples import collect_samples, samples_section
from herd.plugins.report.sft_data import sft_data_sections

CAPTIONS = {
    "funnel": "Curation funnel: records in and out of every step",
    "mix": "Pretraining mix: achieved versus target token shares",
    "losses": "Loss curves per pretraining stage",
    "rounds": "Post-training: verifiable scores per round against round 0",
    "sft_mix": "SFT data mix by capability",
    "timings": "Timings of every stage",
    "niah": "Needle-in-a-haystack accuracy during long-context extension",
    **training_curves.CAPTIONS,
}


def run_report(ctx: StageContext) -> StageResult:
    cfg = ctx.config.section("report")
    data = collect(ctx.inputs)
    images: dict[str, bytes] = {}
    for name, figure in plots.FIGURES.items():
        png = figure(data)
        if png is not None:
            images[name] = png
    curves = training_curves.read_curves(ctx.inputs)
    images.update(training_curves.figures(curves))
    for name, png in images.items():
        with atomic.atomic_open(ctx.workdir / f"{name}.png", "wb", encoding=None) as handle:
            handle.write(png)
    sections = with_training_sections(build_sections(data), training_curves.sections(curves))
    sections = [header_section(run_header(ctx))] + sections
    sections = placed(sections, dropped_section(collect_dropped(ctx.inputs, data.funnel)), after="Curation funnel")
    sections = placed(sections, samples_section(collect_samples(ctx.inputs)), after="SFT data mix")
    sections += sft_data_sections(ctx.inputs.get("posttrain"))
    atomic.write_text(ctx.workdir / "report.md", markdown(cfg.title, sections, images))
    atomic.write_text(ctx.workdir / "report.html", html_page(cfg.title, sections, images))
    # The self-contained HTML is also published at runs/<name>/report.html, where users look.
    published = publish(ctx.run_dir, ctx.workdir)
    ctx.log.info("report written to %s", published)
    return StageResult(counts={"figures": len(images), "stages": len(data.stages)})


def build_sections(data: ReportData) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    """(title, header, rows, figure name) for each section of the report."""
    out = []
    out.append(("Stages", ["stage", "plugin", "seconds", "counts"],
                [[s.stage, s.plugin, f"{s.seconds:.1f}", _kv(_top_level(s.counts))] for s in data.stages], "timings"))
    if data.funnel:
        out.append(("Curation funnel", ["step", "records in", "records out", "tokens in", "tokens out", "drops"],
                    [[r["step"], str(r.get("records_in", "")), str(r.get("records_out", "")),
                      str(r.get("tokens_in", "")), str(r.get("tokens_out", "")), _kv(r.get("drops", {}))]
                     for r in data.funnel], "funnel"))
    if data.classifiers:
        out.append(classifier_section(data.classifiers))
    if data.mix_target:
        out.append(("Pretraining mix", ["domain", "target", "achieved"],
                    [[d, f"{data.mix_target.get(d, 0):.3f}", f"{data.mix_achieved.get(d, 0):.3f}"]
                     for d in sorted(data.mix_target)], "mix"))
    if data.loss_curves:
        out.append(("Pretraining", ["stage", "steps", "first loss", "last loss"],
                    [[n, str(len(p)), f"{p[0][1]:.3f}", f"{p[-1][1]:.3f}"] for n, p in data.loss_curves.items() if p],
                    "losses"))
    if data.niah:
        keys = list(NIAH_FIELDS)
        out.append(("Needle in a haystack", keys, [[_fmt(row.get(k)) for k in keys] for row in data.niah], "niah"))
    if data.rounds:
        # One row per metric, one column per round (0 = before post-training): the
        # verifiable scores the rounds are judged by first, then everything measured.
        keys = sorted({k for row in data.rounds for k in row.metrics}, key=lambda k: (not is_headline(k), k))
        out.append(("Post-training rounds", ["metric"] + [f"round {row.round}" for row in data.rounds],
                    [[k] + [_fmt(row.metrics.get(k)) for row in data.rounds] for k in keys], "rounds"))
        out.append(("SFT data mix", ["round", "rows by capability"],
                    [[str(row.round), _kv(row.sft_mix)] for row in data.rounds], "sft_mix"))
    if data.evaluation:
        out.append(("Evaluation of the final model", ["evaluator", "metric", "value"],
                    [[e, m, _fmt(v)] for e, metrics in data.evaluation.items() for m, v in metrics.items()], None))
    notes = [[s.stage, n] for s in data.stages for n in s.notes]
    if notes:
        out.append(("Notes and limits", ["stage", "note"], notes, None))
    return out


def placed(sections: list, section: tuple | None, after: str) -> list:
    """``sections`` with ``section`` right after the one titled ``after`` (at the end
    when there is none); unchanged when ``section`` is None."""
    if section is None:
        return sections
    titles = [s[0] for s in sections]
    at = titles.index(after) + 1 if after in titles else len(sections)
    return sections[:at] + [section] + sections[at:]


def with_training_sections(sections: list, training: list) -> list:
    """The training-curve sections go before the evaluation and the notes."""
    tail = ("Evaluation of the final model", "Notes and limits")
    at = next((i for i, s in enumerate(sections) if s[0] in tail), len(sections))
    return sections[:at] + training + sections[at:]


def _top_level(counts: dict) -> dict:
    # Dotted counts (per step, per round) have their own sections; the overview keeps the totals.
    return {k: v for k, v in counts.items() if "." not in k}


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else ("" if value is None else str(value))


def _kv(mapping: dict) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in mapping.items())


def markdown(title, sections, images) -> str:
    lines = [f"# {title}", ""]
    for name, header, rows, figure in sections:
        lines += [f"## {name}", ""]
        if figure in images:
            lines += [f"![{CAPTIONS[figure]}]({figure}.png)", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        # Cells are text (dropped documents hold HTML): escaped so Markdown shows, not renders, it.
        lines += ["| " + " | ".join(html.escape(c, quote=False).replace("|", "\\|") for c in row) + " |"
                  for row in rows]
        lines.append("")
    return "\n".join(lines)


def html_page(title, sections, images) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}img{max-width:100%}</style>",
             f"</head><body><h1>{html.escape(title)}</h1>"]
    for name, header, rows, figure in sections:
        parts.append(f"<h2>{html.escape(name)}</h2>")
        if figure in images:
            encoded = base64.b64encode(images[figure]).decode()
            parts.append(f"<figure><img alt='{html.escape(CAPTIONS[figure])}' src='data:image/png;base64,{encoded}'>"
                         f"<figcaption>{html.escape(CAPTIONS[figure])}</figcaption></figure>")
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def publish(run_root: Path, report_dir: Path) -> Path | None:
    """Copy the self-contained HTML report to ``runs/<name>/report.html``."""
    source = report_dir / "report.html"
    if not source.exists():
        return None
    target = run_root / "report.html"
    atomic.write_text(target, source.read_text(encoding="utf-8"))
    return target
