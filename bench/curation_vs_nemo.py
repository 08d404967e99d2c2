"""herd vs NVIDIA NeMo Curator on CPU: the Gopher heuristic filters, documents per second.

NeMo Curator's fuzzy (MinHash) de-duplication runs only on NVIDIA GPUs (its LSH, bucket and
connected-components stages import cuDF / cuGraph from RAPIDS), so on a CPU machine the
part of the two pipelines that can be compared is the heuristic filtering. Both sides run
the Gopher repetition and quality rules (Rae et al. 2021, table A1 and section A.1.1) with
the same thresholds, one process each, on the labelled input that
``bench/curation_vs_datatrove.py`` builds (real Rust and Node.js documentation text and
controlled edits of it; run that script once first, or pass ``--input``):

* herd: ``GopherRepetition`` then ``GopherQuality`` from ``curation_steps``;
* NeMo Curator: its heuristic ``DocumentFilter``s configured as in its Gopher-style
  ``heuristic_filter_en`` set: repeated lines / paragraphs (by count and by characters),
  repeating top 2/3/4-grams, repeating duplicate 5..10-grams, word count, mean word length,
  symbol-to-word ratio, bullet lines, ellipsis lines, words without letters, common English
  words. ``score_document`` + ``keep_document`` per filter, stopping at the first that
  drops, i.e. the filters' own cost without NeMo's Ray/Xenna executor around them (which
  only adds overhead on one node).

NeMo Curator is not a herd dependency: install it in a throwaway virtual environment
(``python3 -m venv /tmp/nc && /tmp/nc/bin/pip install nemo-curator``) and pass that
interpreter with ``--nemo-python``. Each side runs in its own subprocess; the two are
interleaved run by run, since the machine is shared.

    python bench/curation_vs_nemo.py --nemo-python /tmp/nc/bin/python --runs 5 --output docs/benchmarks/curation.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from summary_rows import write_result

DEFAULT_INPUT = Path(os.environ.get("HERD_BENCH_CACHE", "/tmp/herd-bench-cache")) / "input-2000-0" / "input.jsonl.gz"
SECTION = "## Heuristic filters: herd vs NeMo Curator (CPU)"


def read_texts(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [(row["id"], row["text"]) for row in map(json.loads, fh)]


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_herd(docs: list[tuple[str, str]]) -> tuple[list[str], float]:
    from herd.core.records import Document, Drop
    from herd.plugins.curation_steps.gopher import GopherQuality, GopherRepetition

    filters = [GopherRepetition(), GopherQuality()]
    start = time.perf_counter()
    kept = [i for i, text in docs
            if not any(isinstance(f.apply(Document(id=i, text=text)), Drop) for f in filters)]
    return kept, time.perf_counter() - start


def nemo_filters() -> list:
    from nemo_curator.stages.text.filters.heuristic.repetition import (
        RepeatedLinesByCharFilter, RepeatedLinesFilter, RepeatedParagraphsByCharFilter, RepeatedParagraphsFilter,
        RepeatingDuplicateNGramsFilter, RepeatingTopNGramsFilter)
    from nemo_curator.stages.text.filters.heuristic.string import (
        BulletsFilter, CommonEnglishWordsFilter, EllipsisFilter, MeanWordLengthFilter, SymbolsToWordsFilter,
        WordCountFilter, WordsWithoutAlphabetsFilter)

    # NeMo's "repeated" filters keep a document when the share of *unique* lines/paragraphs
    # (or their characters) is at least the cut-off: Gopher's 0.30 / 0.30 / 0.20 / 0.20
    # maximum duplicated shares are 0.70 / 0.70 / 0.80 / 0.80 minimum unique shares.
    return [
        RepeatedParagraphsFilter(0.70), RepeatedParagraphsByCharFilter(0.80),
        RepeatedLinesFilter(0.70), RepeatedLinesByCharFilter(0.80),
        RepeatingTopNGramsFilter(2, 0.20), RepeatingTopNGramsFilter(3, 0.18), RepeatingTopNGramsFilter(4, 0.16),
        *[RepeatingDuplicateNGramsFilter(n, r) for n, r in zip(range(5, 11), (0.15, 0.14, 0.13, 0.12, 0.11, 0.10))],
        WordCountFilter(min_words=50, max_words=100_000), MeanWordLengthFilter(3, 10),
        SymbolsToWordsFilter(0.10), BulletsFilter(0.90), EllipsisFilter(0.30),
        WordsWithoutAlphabetsFilter(0.80), CommonEnglishWordsFilter(2),
    ]


def run_nemo(docs: list[tuple[str, str]]) -> tuple[list[str], float]:
    filters = nemo_filters()
    start = time.perf_counter()
    kept = [i for i, text in docs if all(f.keep_document(f.score_document(text)) for f in filters)]
    return kept, time.perf_counter() - start


def run_side(side: str, path: Path, result: Path) -> None:
    docs = read_texts(path)
    kept, seconds = (run_herd if side == "herd" else run_nemo)(docs)
    result.write_text(json.dumps({"docs": len(docs), "kept": kept, "seconds": seconds, "peak_mib": peak_rss_mib()}))


def spawn(python: str, side: str, path: Path, result: Path) -> dict:
    proc = subprocess.run([python, __file__, "--side", side, "--input", str(path), "--result", str(result)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{side} failed:\n{proc.stderr[-3000:]}")
    return json.loads(result.read_text())


def nemo_version(python: str) -> str:
    code = "from importlib.metadata import version; print(version('nemo-curator'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--nemo-python", default="/tmp/nc/bin/python")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, help="append (or replace) this section in a markdown file")
    parser.add_argument("--side", choices=["herd", "nemo"], help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_side(args.side, args.input, args.result)
        return
    if not args.input.exists():
        raise SystemExit(f"{args.input} does not exist: run bench/curation_vs_datatrove.py first or pass --input")
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    sides = {"herd": (sys.executable, tmp / "herd-bench-herd.json"),
             "nemo": (args.nemo_python, tmp / "herd-bench-nemo.json")}
    for side, (python, result) in sides.items():  # warm-up (page cache, imports), not timed
        spawn(python, side, args.input, result)
    runs = []
    for run in range(args.runs):  # interleaved, alternating who goes first: the machine is shared
        load = os.getloadavg()[0]
        order = ("herd", "nemo") if run % 2 == 0 else ("nemo", "herd")
        out = {side: spawn(sides[side][0], side, args.input, sides[side][1]) for side in order}
        runs.append((out["herd"], out["nemo"], load))
        print(f"run {run + 1}: herd {out['herd']['seconds']:.2f}s nemo {out['nemo']['seconds']:.2f}s "
              f"load {load:.1f}", file=sys.stderr)
    version = nemo_version(args.nemo_python)
    text = report(args, runs, version)
    print(text)
    if args.output:
        write_section(args.output, text)
        write_result(summary(args, runs, version))


def summary(args, runs, version: str):
    from summary_rows import BenchResult, Row, load_range, machine

    docs = runs[0][0]["docs"]
    ratios = [n["seconds"] / h["seconds"] for h, n, _ in runs]
    herd_kept, nemo_kept = set(runs[0][0]["kept"]), set(runs[0][1]["kept"])
    agree = len(herd_kept & nemo_kept) + (docs - len(herd_kept | nemo_kept))
    row = Row(what="Gopher heuristic filters, documents/s",
              herd=f"{docs / statistics.median(h['seconds'] for h, _, _ in runs):.0f}",
              peer=f"NeMo Curator {version}: {docs / statistics.median(n['seconds'] for _, n, _ in runs):.0f}",
              ratio=f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
              load=load_range([load for _, _, load in runs]), page="benchmarks/curation.md",
              goal=f"same decisions on {agree} of {docs} documents (rules close, not identical)")
    return BenchResult(bench="curation_vs_nemo", command=f"python bench/curation_vs_nemo.py --runs {len(runs)} "
                       f"--output {args.output}", machine=machine(), rows=[row])


def report(args, runs, version: str) -> str:
    herd_s = statistics.median(h["seconds"] for h, _, _ in runs)
    nemo_s = statistics.median(n["seconds"] for _, n, _ in runs)
    ratio = statistics.median(n["seconds"] / h["seconds"] for h, n, _ in runs)
    docs = runs[0][0]["docs"]
    herd_kept, nemo_kept = set(runs[0][0]["kept"]), set(runs[0][1]["kept"])
    agree = len(herd_kept & nemo_kept) + (docs - len(herd_kept | nemo_kept))
    rows = [
        "| | herd | NeMo Curator | herd / NeMo |",
        "|---|---:|---:|---:|",
        f"| documents/s (median of {len(runs)}) | {docs / herd_s:.0f} | {docs / nemo_s:.0f} | "
        f"{ratio:.2f}x (median of per-run ratios) |",
        f"| seconds (median) | {herd_s:.2f} | {nemo_s:.2f} | |",
        f"| peak memory, MiB (median) | {statistics.median(h['peak_mib'] for h, _, _ in runs):.0f} | "
        f"{statistics.median(n['peak_mib'] for _, n, _ in runs):.0f} | |",
        f"| documents kept | {len(herd_kept)} | {len(nemo_kept)} | |",
    ]
    per_run = ", ".join(f"({h['seconds']:.2f}, {n['seconds']:.2f}; load {load:.1f})" for h, n, load in runs)
    return "\n".join([
        SECTION, "",
        f"`python bench/curation_vs_nemo.py --runs {len(runs)} --output docs/benchmarks/curation.md` on a "
        f"{os.cpu_count()}-core {platform.machine()} CPU shared with other jobs (Python "
        f"{platform.python_version()}, NeMo Curator {version} in its own virtual environment). "
        f"Input: the {docs} documents of the datatrove comparison above. Both sides: the Gopher "
        "repetition and quality rules with Gopher's thresholds, one process, filters only (see the "
        "script's docstring for NeMo's filter set and why MinHash is not compared).",
        "",
        *rows,
        "",
        f"Both sides agree on {agree} of {docs} keep/drop decisions: NeMo splits lines into sentences, "
        "counts a top n-gram by the characters its string removes and has no paragraph-by-character "
        "rule matching Gopher's exactly, so the rules are close, not identical.",
        "",
        f"Per-run seconds (herd, NeMo Curator; 1-minute load average before the run; the side that "
        f"goes first alternates, after one warm-up run of each): {per_run}",
        "",
        "NeMo Curator's MinHash de-duplication (`FuzzyDeduplicationWorkflow`) cannot run here: its "
        "LSH, bucket-to-edge and connected-components stages import `cudf` (RAPIDS), which needs an "
        "NVIDIA GPU and CUDA; pip installs NeMo Curator on this CPU machine but not RAPIDS.",
        "",
    ])


def write_section(path: Path, text: str) -> None:
    """Replace this script's section of ``path`` (or append it)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start = old.find(SECTION)
    if start == -1:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + ("" if end == -1 else "\n" + old[end + 1:])
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
