"""Benchmark of HTML extraction engines: content F1 against a reference main text, and pages/s.

Pages: real HTML documentation available offline on this machine (the Rust books and std docs
installed with rustup, Node.js API docs from Debian's nodejs package), plus the templated pages
of herd's built-in corpus (``data/corpus/web.warc.gz``: real prose wrapped in a site template
with cookie banner, navigation, sidebar and footer). The reference main text of a page is the
text of its main-content element (``<main>`` for mdBook pages, ``#main-content`` for rustdoc,
``#apicontent`` for Node.js, ``<article>`` for the templated pages) with scripts, styles,
buttons and navigation removed: everything else on the page is boilerplate. Score: bag-of-words F1 of lower-cased word tokens, averaged over pages.

    python bench/extraction.py [--pages 60] [--runs 3] [--output docs/benchmarks/extraction.md]
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from resiliparse.parse.html import HTMLTree

from herd.core.records import Document
from herd.plugins.curation_steps.configs import HtmlTextConfig
from herd.plugins.curation_steps.extract import HtmlText

RUST = sorted(glob.glob(os.path.expanduser("~/.rustup/toolchains/stable-*/share/doc/rust/html")))
SOURCES = [
    # (glob, CSS selector of the main content)
    (f"{RUST[0]}/book/ch*.html" if RUST else "", "main"),
    (f"{RUST[0]}/reference/*.html" if RUST else "", "main"),
    (f"{RUST[0]}/std/collections/*.html" if RUST else "", "#main-content"),
    ("/usr/share/doc/nodejs/api/*.html", "#apicontent"),
]
WORD = re.compile(r"\w+")


def reference_text(html: str, selector: str) -> str | None:
    tree = HTMLTree.parse(html)
    main = tree.body.query_selector(selector) if tree.body else None
    if main is None:
        return None
    for junk in main.query_selector_all("script, style, button, nav, noscript, template"):
        junk.decompose()
    return main.text


def f1(predicted: str, reference: str) -> float:
    p, r = Counter(WORD.findall(predicted.lower())), Counter(WORD.findall(reference.lower()))
    overlap = sum((p & r).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(r.values())
    return 2 * precision * recall / (precision + recall)


WARC = Path(__file__).resolve().parent.parent / "data" / "corpus" / "web.warc.gz"


def warc_pages(limit: int) -> list[tuple[str, str, str]]:
    """Templated pages of the built-in corpus (those with an <article> element)."""
    if not WARC.exists():
        return []
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    pages = []
    with open(WARC, "rb") as fh:
        for record in ArchiveIterator(fh, record_types=WarcRecordType.response):
            html = record.reader.read().decode("utf-8", "replace")
            ref = reference_text(html, "article") if "<article" in html else None
            if ref and len(ref.split()) >= 50:
                pages.append((record.headers.get("WARC-Target-URI"), html, ref))
            if len(pages) >= limit:
                break
    return pages


def load_pages(per_source: int) -> list[tuple[str, str, str]]:
    pages = warc_pages(per_source)
    for pattern, selector in SOURCES:
        if not pattern:
            continue
        files = [f for f in sorted(glob.glob(pattern)) if os.path.getsize(f) > 4000][:per_source]
        for path in files:
            html = Path(path).read_text(encoding="utf-8", errors="replace")
            ref = reference_text(html, selector)
            if ref and len(ref.split()) >= 50:
                pages.append((path, html, ref))
    return pages


def _run(extractor: HtmlText, html: str) -> str:
    """The document step as the pipeline runs it (size and nesting-depth guards included)."""
    result = extractor.apply(Document(id="page", html=html))
    return result.text if isinstance(result, Document) else ""


def measure(engine: str, pages, runs: int) -> tuple[float, float, int]:
    extractor = HtmlText(HtmlTextConfig(engine=engine))
    outputs = [_run(extractor, html) for _, html, _ in pages]  # warm-up + quality
    score = statistics.mean(f1(out, ref) for out, (_, _, ref) in zip(outputs, pages))
    speeds = []
    for _ in range(runs):
        start = time.perf_counter()
        for _, html, _ in pages:
            _run(extractor, html)
        speeds.append(len(pages) / (time.perf_counter() - start))
    fallbacks = extractor.fallbacks // (runs + 1)
    return score, statistics.median(speeds), fallbacks


def _by_source(pages):
    groups: dict[str, list] = {}
    for page in pages:
        path = page[0]
        label = ("templated (data/corpus)" if path.startswith("http") else "node.js api" if "nodejs" in path
                 else "rust std" if "/std/" in path else "rust books")
        groups.setdefault(label, []).append(page)
    return groups


def measure_f1(engine: str, pages) -> float:
    extractor = HtmlText(HtmlTextConfig(engine=engine))
    return statistics.mean(f1(_run(extractor, html), ref) for _, html, ref in pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=25, help="pages per source")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    pages = load_pages(args.pages)
    if not pages:
        raise SystemExit("no offline HTML pages found (rustup docs or /usr/share/doc/nodejs)")
    rows = []
    print(", ".join(f"{k}: {len(v)} pages" for k, v in _by_source(pages).items()))
    for engine in ("resiliparse", "trafilatura", "hybrid"):
        score, speed, fallbacks = measure(engine, pages, args.runs)
        by_source = {}
        for label, subset in _by_source(pages).items():
            by_source[label] = measure_f1(engine, subset)
        rows.append((engine, score, speed, fallbacks, by_source))
        print(f"{engine:12s} F1 {score:.3f}  {speed:7.1f} pages/s  trafilatura fallbacks {fallbacks}/{len(pages)}  "
              + "  ".join(f"{k} {v:.3f}" for k, v in by_source.items()))
    if args.output:
        write_report(args.output, rows, pages, args.runs)


def write_report(path: Path, rows, pages, runs: int) -> None:
    mb = sum(len(h) for _, h, _ in pages) / 1e6
    fastest = max(r[2] for r in rows)
    lines = [
        "# HTML extraction: content F1 and speed",
        "",
        f"`python bench/extraction.py --output {path}` on a {os.cpu_count()}-core {platform.machine()} CPU "
        f"(shared with other jobs), Python {platform.python_version()}; {len(pages)} real pages "
        f"({mb:.1f} MB of HTML: Rust book and reference, Rust std docs, Node.js API docs, all installed "
        "offline on this machine, and the templated pages of herd's built-in corpus `data/corpus/web.warc.gz`). Reference = text of each page's main-content element minus scripts, "
        "buttons and navigation; F1 = bag-of-words token F1, mean over pages. Speed = median of "
        f"{runs} runs, one process, the `html_text` step as the pipeline runs it (math pre-pass and "
        "nesting-depth guard included) for every engine.",
        "",
        "| engine | content F1 | pages/s | speed vs fastest | trafilatura fallbacks | "
        + " | ".join(f"F1 {k} ({len(v)})" for k, v in _by_source(pages).items()) + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(_by_source(pages)),
    ]
    for engine, score, speed, fallbacks, by_source in rows:
        fb = f"{fallbacks}/{len(pages)}" if engine == "hybrid" else "-"
        lines.append(f"| {engine} | {score:.3f} | {speed:.1f} | {speed / fastest:.2f}x | {fb} | "
                     + " | ".join(f"{v:.3f}" for v in by_source.values()) + " |")
    lines += ["", "The default engine (`[extractors.html_text] engine`) is `hybrid`: see the discussion below.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
