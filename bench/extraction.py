"""Benchmark of HTML extraction engines: token F1 against hand-written gold main text, and pages/s
on one core.

Pages: ``bench/data/extraction_gold/pages`` (60 pages: news, blogs, forums, documentation and
product pages in nine languages, ten site layouts with navigation, cookie banners, teasers,
comments, reviews, user panels, footers and scripts). The gold text of each page is the main
text as written by hand (``bench/data/extraction_gold/build.py`` renders it into the layouts),
never an extractor's output. Score: bag-of-words F1 of lower-cased ``\\w+`` tokens per page,
averaged over pages. Speed: every engine through the ``html_text`` step as the pipeline runs it
(math pre-pass and nesting-depth guard included), one process, one thread; engines alternate
(rotated order) within each repeat after a warm-up pass, median of the repeats.

    python bench/extraction.py --repeats 5 --output docs/benchmarks/extraction.md
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from summary_rows import BenchResult, Row, load_range, machine, write_result

from herd.core.records import Document
from herd.plugins.curation_steps.configs import HtmlTextConfig
from herd.plugins.curation_steps.extract import HtmlText

GOLD = Path(__file__).resolve().parent / "data" / "extraction_gold" / "pages"
WORD = re.compile(r"\w+")
ENGINES = ("hybrid", "resiliparse", "trafilatura")
LABEL = {"hybrid": "herd (hybrid)", "resiliparse": "resiliparse", "trafilatura": "trafilatura"}


@dataclass(frozen=True)
class Page:
    name: str
    layout: str
    lang: str
    html: str
    gold: str


@dataclass(frozen=True)
class Scores:
    f1: float
    precision: float
    recall: float


def token_scores(predicted: str, reference: str) -> Scores:
    p, r = Counter(WORD.findall(predicted.lower())), Counter(WORD.findall(reference.lower()))
    overlap = sum((p & r).values())
    if not overlap:
        return Scores(0.0, 0.0, 0.0)
    precision, recall = overlap / sum(p.values()), overlap / sum(r.values())
    return Scores(2 * precision * recall / (precision + recall), precision, recall)


def load_pages(folder: Path = GOLD) -> list[Page]:
    pages = []
    for path in sorted(folder.glob("*.html")):
        layout, body = path.stem.split("--")
        pages.append(Page(path.stem, layout, body.split("-")[1], path.read_text(), path.with_suffix(".txt").read_text()))
    if not pages:
        raise SystemExit(f"no gold pages in {folder}: run python bench/data/extraction_gold/build.py")
    return pages


def _run(extractor: HtmlText, html: str) -> str:
    result = extractor.apply(Document(id="page", html=html))
    return result.text if isinstance(result, Document) else ""


def mean_scores(scores: list[Scores]) -> Scores:
    return Scores(*(statistics.mean(getattr(s, f) for s in scores) for f in ("f1", "precision", "recall")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=None, help="write the markdown page here")
    parser.add_argument("--no-result", action="store_true", help="do not write bench/results/extraction.json")
    args = parser.parse_args()
    import torch  # noqa: F401  (nothing here uses threads; imported only so thread env is as elsewhere)

    pages = load_pages()
    extractors = {e: HtmlText(HtmlTextConfig(engine=e)) for e in ENGINES}
    quality: dict[str, list[Scores]] = {}
    for engine, ex in extractors.items():  # warm-up pass, also the quality pass
        quality[engine] = [token_scores(_run(ex, p.html), p.gold) for p in pages]
    fallbacks = extractors["hybrid"].fallbacks
    speeds: dict[str, list[float]] = {e: [] for e in ENGINES}
    loads = []
    for rep in range(args.repeats):
        loads.append(os.getloadavg()[0])
        order = ENGINES[rep % len(ENGINES):] + ENGINES[:rep % len(ENGINES)]
        for engine in order:
            ex = extractors[engine]
            start = time.process_time()
            for p in pages:
                _run(ex, p.html)
            speeds[engine].append(len(pages) / (time.process_time() - start))
    summary = {e: (mean_scores(quality[e]), statistics.median(speeds[e]), min(speeds[e]), max(speeds[e])) for e in ENGINES}
    for e, (s, med, lo, hi) in summary.items():
        print(f"{e:12s} F1 {s.f1:.3f} P {s.precision:.3f} R {s.recall:.3f}  {med:7.1f} pages/s/core ({lo:.0f}-{hi:.0f})")
    print(f"hybrid fell back to trafilatura on {fallbacks} of {len(pages)} pages; load {load_range(loads)}")
    command = f"python bench/extraction.py --repeats {args.repeats}" + (f" --output {args.output}" if args.output else "")
    if args.output:
        write_page(args.output, command, pages, quality, summary, fallbacks, loads, args.repeats)
    if not args.no_result:
        write_result(result_rows(command, pages, summary, fallbacks, loads))


def result_rows(command, pages, summary, fallbacks, loads) -> BenchResult:
    herd, speed = summary["hybrid"][0], summary["hybrid"][1]
    peers = "; ".join(f"{LABEL[e]}: {summary[e][0].f1:.3f} / {summary[e][1]:,.0f}" for e in ("trafilatura", "resiliparse"))
    met = "met" if herd.f1 >= 0.95 and speed >= 400 else "not met"
    rows = [Row(what=f"HTML extraction, token F1 / pages/s per core ({len(pages)} hand-labelled pages)",
                herd=f"{herd.f1:.3f} / {speed:,.0f}", peer=peers,
                ratio=f"F1 {herd.f1 - summary['trafilatura'][0].f1:+.3f} vs trafilatura; "
                      f"{speed / summary['trafilatura'][1]:.1f}x its speed",
                load=load_range(loads), page="benchmarks/extraction.md",
                goal=f"F1 >= 0.95 at >= 400 pages/s: {met}; trafilatura fallbacks {fallbacks}/{len(pages)}")]
    return BenchResult(bench="extraction", command=command, machine=machine(), rows=rows)


def write_page(path: Path, command, pages, quality, summary, fallbacks, loads, repeats) -> None:
    layouts = sorted({p.layout for p in pages})
    langs = sorted({p.lang for p in pages})
    kb = sum(len(p.html.encode()) for p in pages) / len(pages) / 1024
    lines = [
        "# HTML extraction: content F1 and speed",
        "",
        f"`{command}` on {machine()} (shared; 1-minute load average {load_range(loads)} during the timed runs).",
        "",
        f"Pages: the {len(pages)} pages of `bench/data/extraction_gold/` ({len(layouts)} site layouts: news, blog, "
        f"forum, documentation, product, two of each; {len(langs)} languages: {', '.join(langs)}; {kb:.1f} KiB of "
        "HTML per page on average). Each page's gold text is its main text written by hand "
        "(`bench/data/extraction_gold/build.py` renders the hand-written bodies into the layouts); no extractor "
        "made any of it. Navigation, cookie banners, bylines, teasers, comments, reviews, forum user panels "
        "and signatures, footers and scripts are boilerplate; forum posts are main text. F1: bag-of-words "
        "F1 of lower-cased `\\w+` tokens per page, mean over pages. Speed: pages per CPU-second (process "
        "time, one thread: pages/s per core), the `html_text` step as the pipeline runs it, engines rotated "
        f"within each of {repeats} repeats after a warm-up pass; median (range).",
        "",
        "| engine | F1 | precision | recall | pages/s per core | " + " | ".join(f"F1 {l}" for l in layouts) + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(layouts),
    ]
    for engine in ENGINES:
        s, med, lo, hi = summary[engine]
        per = [mean_scores([q for q, p in zip(quality[engine], pages) if p.layout == l]).f1 for l in layouts]
        lines.append(f"| {LABEL[engine]} | {s.f1:.3f} | {s.precision:.3f} | {s.recall:.3f} | {med:,.0f} ({lo:,.0f}-{hi:,.0f}) | "
                     + " | ".join(f"{v:.2f}" for v in per) + " |")
    lines += ["", f"herd's `hybrid` fell back to trafilatura on {fallbacks} of {len(pages)} pages.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text() if path.exists() else ""
    tail = old[old.index("## Reading the numbers"):] if "## Reading the numbers" in old else ""
    path.write_text("\n".join(lines) + "\n" + tail)


if __name__ == "__main__":
    main()
