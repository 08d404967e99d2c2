"""herd vs datatrove on the same input: Gopher filters + MinHash dedup, docs/s, peak memory,
and near-duplicate precision/recall on a labelled set made by controlled edits of real text.

Input (built here, offline): real documentation text on this machine (the Rust books and
reference installed with rustup, Node.js API docs from Debian) extracted with resiliparse and
cut into documents of 150-600 words; base documents that already overlap (Jaccard of word
5-gram sets >= 0.3) are removed so that the only near-duplicates are the ones we make:

* near-duplicates (label: same cluster as their source): 1-2 copies of 25% of the base
  documents with 0.5-2% of the words substituted, deleted or inserted and sometimes a short
  header line added (word 5-gram Jaccard with the source mostly 0.75-0.95: "Jaccard about
  0.8", the issue's target);
* hard negatives (label: distinct): a copy of 10% of the base documents with 5-8% of the
  words edited (Jaccard ~0.4-0.6: the zone where 14x8 LSH still makes some false
  candidates), and of 5% with 50% edited.
The report gives the measured Jaccard range of each kind of labelled pair.

Both tools run the same rules: Gopher repetition and quality filters with the Gopher
defaults, then MinHash with word 5-gram shingles, 14 bands x 8 rows; one process each
(datatrove: LocalPipelineExecutor with tasks=1/workers=1 and its standard 4-stage MinHash;
herd: the curation_steps objects driven the way the runner drives them: filter pass writing
an intermediate JSONL, MinHash observe, finalize, apply). Precision/recall are over pairs of
documents put in one cluster, counted among the documents both tools' filters kept.
Each side runs in its own subprocess; peak memory = that process's max RSS.

    python bench/curation_vs_datatrove.py --docs 4000 --runs 3 --output docs/benchmarks/curation.md
"""

from __future__ import annotations

import argparse
import glob
import gzip
import itertools
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

CACHE = Path(os.environ.get("HERD_BENCH_CACHE", "/tmp/herd-bench-cache"))
RUST = sorted(glob.glob(os.path.expanduser("~/.rustup/toolchains/stable-*/share/doc/rust/html")))
PAGE_GLOBS = ([f"{RUST[0]}/{d}/**/*.html" for d in ("book", "reference", "cargo", "rustc", "edition-guide",
                                                     "embedded-book", "unstable-book", "error_codes",
                                                     "rustdoc", "nomicon", "rust-by-example", "style-guide")]
              if RUST else []) + ["/usr/share/doc/nodejs/api/*.html"]
SKIP = re.compile(r"/(first-edition|second-edition|2018-edition|print\.html)")
FILLER = ["data", "system", "value", "result", "process", "example", "number", "method", "point", "model"]


# -- building the labelled input -------------------------------------------------------------

def base_documents(limit: int) -> list[str]:
    """Real text cut into documents, cached in CACHE/base.jsonl."""
    cache = CACHE / "base.jsonl"
    if cache.exists():
        docs = [json.loads(line)["text"] for line in cache.open()]
        if len(docs) >= limit:
            return docs[:limit]
    from resiliparse.extract.html2text import extract_plain_text

    docs = []
    files = sorted({f for g in PAGE_GLOBS for f in glob.glob(g, recursive=True) if not SKIP.search(f)})
    for path in files:
        text = extract_plain_text(Path(path).read_text(errors="replace"), main_content=True)
        paras = [p.strip() for p in text.split("\n\n") if len(p.split()) >= 5]
        chunk: list[str] = []
        for para in paras:
            chunk.append(para)
            words = sum(len(p.split()) for p in chunk)
            if words >= 150 and (words >= 600 or random.Random(len(docs)).random() < 0.3):
                docs.append("\n\n".join(chunk))
                chunk = []
        if len(docs) >= 4 * limit:
            break
    docs = remove_overlapping(docs)
    CACHE.mkdir(parents=True, exist_ok=True)
    with cache.open("w") as fh:
        for text in docs:
            fh.write(json.dumps({"text": text}) + "\n")
    return docs[:limit]


def shingles(text: str, n: int = 5) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def remove_overlapping(docs: list[str], max_jaccard: float = 0.3) -> list[str]:
    """Drop documents whose exact 5-gram Jaccard with an earlier kept one is >= max_jaccard."""
    index: dict[str, list[int]] = defaultdict(list)
    sets, kept = [], []
    for text in docs:
        s = shingles(text)
        shared = Counter(j for sh in s for j in index.get(sh, ()))
        if any(c / (len(s) + len(sets[j]) - c) >= max_jaccard for j, c in shared.items()):
            continue
        k = len(sets)
        sets.append(s)
        kept.append(text)
        for sh in s:
            index[sh].append(k)
    return kept


def edit(text: str, rate: float, rng: random.Random) -> str:
    lines = text.split("\n")
    out = []
    for line in lines:
        words = line.split(" ")
        new = []
        for w in words:
            r = rng.random()
            if r < rate / 3:
                continue  # deletion
            if r < 2 * rate / 3:
                new.append(rng.choice(FILLER))  # substitution
                continue
            new.append(w)
            if r < rate:
                new.append(rng.choice(FILLER))  # insertion
        out.append(" ".join(new))
    return "\n".join(out)


def build_input(n_docs: int, seed: int, folder: Path) -> dict[str, str]:
    """Write folder/input.jsonl.gz; return the true cluster of every document id."""
    rng = random.Random(seed)
    base = base_documents(n_docs)
    rows, truth = [], {}
    for i, text in enumerate(base):
        rows.append({"id": f"b{i}", "text": text})
        truth[f"b{i}"] = f"c{i}"
        roll = rng.random()
        if roll < 0.25:
            for k in range(rng.choice((1, 2))):
                copy = edit(text, rng.uniform(0.005, 0.02), rng)
                if rng.random() < 0.3:
                    copy = rng.choice(["Share this page", "Last updated 2024", "Edit on GitHub"]) + "\n\n" + copy
                rows.append({"id": f"b{i}-near{k}", "text": copy})
                truth[f"b{i}-near{k}"] = f"c{i}"
        elif roll < 0.35:
            rows.append({"id": f"b{i}-gray", "text": edit(text, rng.uniform(0.05, 0.08), rng)})
            truth[f"b{i}-gray"] = f"gray{i}"
        elif roll < 0.40:
            rows.append({"id": f"b{i}-far", "text": edit(text, 0.5, rng)})
            truth[f"b{i}-far"] = f"far{i}"
    rng.shuffle(rows)
    texts = {r["id"]: r["text"] for r in rows}
    jaccard: dict[str, list[float]] = defaultdict(list)
    for doc_id in texts:
        if "-" in doc_id:
            kind = doc_id.split("-")[1].rstrip("0123456789")
            a, b = shingles(texts[doc_id]), shingles(texts[doc_id.split("-")[0]])
            jaccard[kind].append(len(a & b) / len(a | b))
    (folder.mkdir(parents=True, exist_ok=True))
    (folder / "jaccard.json").write_text(json.dumps(jaccard))
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "input.jsonl.gz", "wt", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return truth


# -- the two sides (each run in its own subprocess) -----------------------------------------

def run_herd(input_dir: Path, work: Path, seed: int = 1) -> dict:
    from herd.core.records import Document, Drop
    from herd.plugins.curation_steps.configs import MinHashConfig
    from herd.plugins.curation_steps.dedup.minhash import MinHashDedup
    from herd.plugins.curation_steps.gopher import GopherQuality, GopherRepetition
    from herd.plugins.curation_steps.text import id_hash

    import numpy as np

    start = time.perf_counter()
    filters = [GopherRepetition(), GopherQuality()]
    minhash = MinHashDedup(MinHashConfig(spill_dir=str(work / "spill"), seed=seed))
    n_in = 0
    filtered = work / "filtered.jsonl.gz"
    with gzip.open(input_dir / "input.jsonl.gz", "rt") as src, gzip.open(filtered, "wt") as out:
        for line in src:
            n_in += 1
            doc = Document.from_dict(json.loads(line))
            if any(isinstance(f.apply(doc), Drop) for f in filters):
                continue
            out.write(json.dumps(doc.to_dict()) + "\n")
            minhash.observe(doc)
    minhash.finalize(work / "state")
    labels = {int(h): int(c) for h, c in np.load(work / "state" / "minhash_dedup" / "clusters.npy").tolist()}
    clusters, n_out = {}, 0
    with gzip.open(filtered, "rt") as src, gzip.open(work / "kept.jsonl.gz", "wt") as out:
        for line in src:
            doc = Document.from_dict(json.loads(line))
            clusters[doc.id] = labels.get(id_hash(doc.id), -1)
            if not isinstance(minhash.apply(doc), Drop):
                n_out += 1
                out.write(json.dumps(doc.to_dict()) + "\n")
    return {"seconds": time.perf_counter() - start, "docs_in": n_in, "docs_out": n_out, "clusters": clusters}


def run_datatrove(input_dir: Path, work: Path, seed: int = 1) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    _patch_datatrove_xxhash()
    start = time.perf_counter()
    cfg = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, seed=seed,
                        hash_config=HashConfig(precision=64))
    common = {"workers": 1, "skip_completed": False}
    stages = [
        LocalPipelineExecutor([JsonlReader(str(input_dir)), GopherRepetitionFilter(), GopherQualityFilter(),
                               JsonlWriter(str(work / "filtered"))], tasks=1, logging_dir=str(work / "l0"), **common),
        LocalPipelineExecutor([JsonlReader(str(work / "filtered")),
                               MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg)],
                              tasks=1, logging_dir=str(work / "l1"), **common),
        LocalPipelineExecutor([MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"),
                                                   config=cfg)], tasks=cfg.num_buckets, logging_dir=str(work / "l2"), **common),
        LocalPipelineExecutor([MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove"),
                                                   config=cfg, save_cluster_id=True)], tasks=1, logging_dir=str(work / "l3"), **common),
        LocalPipelineExecutor([JsonlReader(str(work / "filtered")),
                               MinhashDedupFilter(input_folder=str(work / "remove"), load_cluster_ids=True,
                                                  exclusion_writer=JsonlWriter(str(work / "removed"))),
                               JsonlWriter(str(work / "kept"))], tasks=1, logging_dir=str(work / "l4"), **common),
    ]
    for stage in stages:
        stage.run()
    seconds = time.perf_counter() - start
    clusters, n_out = {}, 0
    for part in ("kept", "removed"):
        for path in sorted((work / part).glob("*.jsonl.gz")):
            for line in gzip.open(path, "rt"):
                row = json.loads(line)
                clusters[row["id"]] = int(row["metadata"].get("minhash_cluster_id", -1))
                n_out += part == "kept"
    with gzip.open(input_dir / "input.jsonl.gz", "rt") as fh:
        n_in = sum(1 for _ in fh)
    return {"seconds": seconds, "docs_in": n_in, "docs_out": n_out, "clusters": clusters}


def _patch_datatrove_xxhash() -> None:
    """datatrove 0.10 passes ``str`` to xxhash, which xxhash >= 4 refuses ("Strings must be
    encoded before hashing"); encode to UTF-8 first, as older xxhash versions did internally."""
    import xxhash
    import datatrove.utils.hashes.xxhash as dt_xxhash

    dt_xxhash.xxhash32 = lambda data: xxhash.xxh32_intdigest(data.encode() if isinstance(data, str) else data)
    dt_xxhash.xxhash64 = lambda data: xxhash.xxh64_intdigest(data.encode() if isinstance(data, str) else data)


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM). Not ``ru_maxrss``: on Linux that keeps the
    parent's resident size from before ``exec``, which would charge the bench's own memory
    to each side."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_side(side: str, input_dir: Path, work: Path, result: Path, seed: int) -> None:
    work.mkdir(parents=True, exist_ok=True)
    out = run_herd(input_dir, work, seed) if side == "herd" else run_datatrove(input_dir, work, seed)
    out["peak_mib"] = peak_rss_mib()
    result.write_text(json.dumps(out))


def spawn(side: str, input_dir: Path, work: Path, seed: int) -> dict:
    """Run one side in a subprocess (it reports its own peak memory)."""
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    result = work.with_suffix(".json")
    proc = subprocess.Popen([sys.executable, __file__, "--side", side, "--input-dir", str(input_dir),
                             "--work", str(work), "--result", str(result), "--mh-seed", str(seed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{side} failed:\n{stderr[-3000:]}")
    out = json.loads(result.read_text())
    shutil.rmtree(work, ignore_errors=True)
    return out


# -- scoring -----------------------------------------------------------------------------------

def pairs(clusters: dict[str, int], ids: set[str]) -> set[tuple[str, str]]:
    groups = defaultdict(list)
    for doc_id, label in clusters.items():
        if doc_id in ids and label != -1:
            groups[label].append(doc_id)
    return {tuple(sorted(p)) for members in groups.values() for p in itertools.combinations(members, 2)}


def precision_recall(predicted: dict[str, int], truth: dict[str, str], ids: set[str]) -> tuple[float, float]:
    true_groups: dict[str, list[str]] = defaultdict(list)
    for doc_id in ids:
        true_groups[truth[doc_id]].append(doc_id)
    true_pairs = {tuple(sorted(p)) for m in true_groups.values() for p in itertools.combinations(m, 2)}
    pred = pairs(predicted, ids)
    tp = len(pred & true_pairs)
    return (tp / len(pred) if pred else 1.0), (tp / len(true_pairs) if true_pairs else 1.0)


# -- memory growth of herd's MinHash -------------------------------------------------------------

def minhash_memory(sizes: list[int], folder: Path) -> list[tuple[int, float, float]]:
    """Peak RSS of a process that only observes/finalizes/applies MinHash on n documents,
    minus that of the same process on 0 documents (imports, interpreter)."""
    rows = []
    code = (
        "import gzip, json, sys, time, itertools\n"
        "from herd.core.records import Document\n"
        "from herd.plugins.curation_steps.dedup.minhash import MinHashDedup\n"
        "from herd.plugins.curation_steps.configs import MinHashConfig\n"
        "import random\n"
        "n = int(sys.argv[1]); src = [json.loads(l)['text'] for l in gzip.open(sys.argv[2], 'rt')]\n"
        "sentences = [s for t in src for s in t.split('. ') if len(s.split()) > 4]\n"
        "rng = random.Random(0)\n"
        "step = MinHashDedup(MinHashConfig(spill_dir=sys.argv[3]))\n"
        "t = time.perf_counter()\n"
        "for i in range(n): step.observe(Document(id=str(i), text='. '.join(rng.sample(sentences, 25))))\n"
        "step.finalize(sys.argv[3] + '/w')\n"
        "kept = sum(1 for i in range(n) if step.apply(Document(id=str(i), text='')) is not None)\n"
        "seconds = time.perf_counter() - t\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "print(seconds, int(hwm) / 1024)\n"
    )
    base = None
    for n in [0] + sizes:
        spill = folder / f"mem{n}"
        proc = subprocess.Popen([sys.executable, "-c", code, str(n), str(folder / "input.jsonl.gz"), str(spill)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(stderr[-2000:])
        seconds, peak = (float(x) for x in stdout.split())
        if n == 0:
            base = peak
            continue
        rows.append((n, peak - base, seconds))
        print(f"minhash n={n}: peak +{peak - base:.1f} MiB over baseline, {seconds:.1f}s", flush=True)
    return rows


# -- main ------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000, help="base documents (before near-duplicates)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-sizes", default="5000,20000,80000")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--side", choices=("herd", "datatrove"), help=argparse.SUPPRESS)
    parser.add_argument("--input-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mh-seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_side(args.side, args.input_dir, args.work, args.result, args.mh_seed)
        return

    folder = CACHE / f"input-{args.docs}-{args.seed}"
    truth = build_input(args.docs, args.seed, folder)
    jaccard = json.loads((folder / "jaccard.json").read_text())
    print(f"input: {len(truth)} documents; Jaccard with source: " + ", ".join(
        f"{k} n={len(v)} {min(v):.2f}-{max(v):.2f}" for k, v in jaccard.items()), flush=True)
    results = {"herd": [], "datatrove": []}
    for run in range(args.runs):
        for side in (("herd", "datatrove") if run % 2 == 0 else ("datatrove", "herd")):
            out = spawn(side, folder, CACHE / f"work-{side}", seed=run + 1)  # MinHash seed
            results[side].append(out)
            print(f"run {run} {side}: {out['docs_in'] / out['seconds']:.0f} docs/s, {out['seconds']:.1f}s, "
                  f"peak {out['peak_mib']:.0f} MiB, kept {out['docs_out']}", flush=True)
    herd, dt = results["herd"][0], results["datatrove"][0]
    both = set(herd["clusters"]) & set(dt["clusters"])  # the filters are deterministic: same every run
    per_run = {side: [precision_recall(r["clusters"], truth, both) for r in results[side]] for side in results}
    scores = {side: (statistics.mean(p for p, _ in runs), statistics.mean(r for _, r in runs))
              for side, runs in per_run.items()}
    filter_agreement = len(both) / max(1, len(set(herd["clusters"]) | set(dt["clusters"])))
    for side, (p, r) in scores.items():
        print(f"{side}: precision {p:.3f} recall {r:.3f} (mean of {args.runs} MinHash seeds) on {len(both)} "
              f"documents kept by both filters; per run {per_run[side]}")
    sizes = [int(s) for s in args.memory_sizes.split(",") if s]
    memory = minhash_memory(sizes, folder) if sizes else []
    if args.output:
        write_report(args, truth, results, scores, filter_agreement, len(both), memory, jaccard, per_run)


def write_report(args, truth, results, scores, agreement, n_both, memory, jaccard, per_run) -> None:
    def med(side, key):
        return statistics.median(r[key] for r in results[side])

    speed = {s: statistics.median(r["docs_in"] / r["seconds"] for r in results[s]) for s in results}
    ratios = [h["seconds"] / d["seconds"] for h, d in zip(results["herd"], results["datatrove"])]
    speedup = statistics.median(1 / r for r in ratios)
    n_in = results["herd"][0]["docs_in"]
    lines = [
        "# Curation: herd vs datatrove",
        "",
        f"`python bench/curation_vs_datatrove.py --docs {args.docs} --runs {args.runs} --output {args.output}` "
        f"on a {os.cpu_count()}-core {platform.machine()} CPU shared with other jobs (Python "
        f"{platform.python_version()}, datatrove {_version('datatrove')}). Both: Gopher repetition + Gopher quality "
        "filters with Gopher's defaults, then MinHash (word 5-grams, 14 bands x 8 rows, 64-bit hashes), "
        "one process, gzip JSONL in and out. See the script's docstring for how the input and its labels are made.",
        "",
        f"Input: {n_in} documents of real text (Rust and Node.js documentation); made from them "
        "by controlled edits (word 5-gram Jaccard with the source, min-median-max): " + "; ".join(
            f"{len(v)} {k} ({min(v):.2f}-{statistics.median(v):.2f}-{max(v):.2f})" for k, v in jaccard.items())
        + ". `near` copies are labelled duplicates of their source, `gray` and `far` ones distinct.",
        "",
        "| | herd | datatrove | herd / datatrove |",
        "|---|---:|---:|---:|",
        f"| documents/s (median of {args.runs}) | {speed['herd']:.0f} | {speed['datatrove']:.0f} | "
        f"{speedup:.2f}x (median of per-run ratios) |",
        f"| wall seconds (median) | {med('herd', 'seconds'):.1f} | {med('datatrove', 'seconds'):.1f} | |",
        f"| peak memory, MiB (median) | {med('herd', 'peak_mib'):.0f} | {med('datatrove', 'peak_mib'):.0f} | |",
        f"| documents kept | {results['herd'][0]['docs_out']} | {results['datatrove'][0]['docs_out']} | |",
        f"| near-dup precision | {scores['herd'][0]:.3f} | {scores['datatrove'][0]:.3f} | |",
        f"| near-dup recall | {scores['herd'][1]:.3f} | {scores['datatrove'][1]:.3f} | |",
        "",
        f"Precision and recall: means over the {args.runs} runs, run k using MinHash seed k in both tools "
        "(LSH detection is random: per run, herd "
        + ", ".join(f"{p:.3f}/{r:.3f}" for p, r in per_run["herd"]) + "; datatrove "
        + ", ".join(f"{p:.3f}/{r:.3f}" for p, r in per_run["datatrove"]) + "). "
        f"They are over pairs of documents in one cluster, among the {n_both} documents "
        f"that both tools' filters kept ({agreement:.1%} of the documents either kept: the filters "
        "differ a little because datatrove counts spaCy tokens, punctuation included, as words while herd "
        "counts whitespace words as the Gopher paper does).",
        "",
        "Per-run seconds (herd, datatrove): " + ", ".join(
            f"({h['seconds']:.1f}, {d['seconds']:.1f})" for h, d in zip(results["herd"], results["datatrove"])),
        "",
    ]
    if memory:
        lines += [
            "## MinHash peak memory versus input size (herd)",
            "",
            "A process that only runs `minhash_dedup` (observe, finalize, apply) on n distinct documents "
            "(25 random sentences of the input each, ~500 words); peak RSS minus that of the same process "
            "on 0 documents. Signatures and band hashes are on disk; "
            "what grows is `finalize`'s per-band arrays (about 8 bytes per document for the hashes, 8 for "
            "the sort order, plus id hashes and component labels).",
            "",
            "| documents | peak memory over baseline (MiB) | bytes per document | seconds (incl. making the documents) |",
            "|---:|---:|---:|---:|",
        ]
        lines += [f"| {n} | {mib:.1f} | {mib * 2**20 / n:.0f} | {sec:.1f} |" for n, mib, sec in memory]
        lines.append("")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
