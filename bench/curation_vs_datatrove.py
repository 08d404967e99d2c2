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
defaults, then MinHash with word 5-gram shingles, 14 bands x 8 rows, 64-bit hashes, and no
check of the estimated Jaccard after LSH (herd's ``verify_threshold=0``, datatrove's only mode);
one process each (datatrove: LocalPipelineExecutor with tasks=1/workers=1 and its standard
4-stage MinHash; herd: the curation_steps objects driven the way the runner drives them: filter
pass writing an intermediate JSONL, MinHash observe, finalize, apply).

"The same rules" is checked, not assumed. datatrove's Gopher filters and its MinHash count
spaCy tokens as words (punctuation tokens included), while herd, like the Gopher paper,
counts whitespace-separated words; with spaCy's words "80% of words contain a letter" drops
documents herd keeps. datatrove accepts a ``WordTokenizer`` in place of a language name, so
the timed runs give it ``WhitespaceWords`` (``str.split``) and the two make the same rules.
Before timing, every document's first failing rule is computed on both sides (in-process,
untimed), with datatrove's default spaCy words and with whitespace words, and the report
gives the keep/drop agreement per rule.

Two timed measurements, each alternating which side runs first within a repeat, after one
discarded warm-up run of each side, with the 1-minute load average recorded per run:
the whole pipeline (filters + MinHash), and MinHash alone on the unfiltered input (the
component figure: same input, same parameters, and the agreement of the removed sets).
Precision/recall are over pairs of documents put in one cluster, counted among the documents
both tools' filters kept. Each side runs in its own subprocess; peak memory = that
process's max RSS, and the import-only peak of each side is measured too (most of
datatrove's memory is its imports).

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

MODES = ("pipeline", "minhash")  # filters + MinHash; MinHash alone on the unfiltered input


def whitespace_words():
    """datatrove's ``WordTokenizer`` for whitespace-separated words (``str.split``), the words
    herd's Gopher filters and the Gopher paper count. Built in a function so that importing this
    script does not import datatrove."""
    from datatrove.utils.word_tokenizers import WordTokenizer

    class WhitespaceWords(WordTokenizer):
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [m.span() for m in re.finditer(r"[^.!?]+(?:[.!?]+|$)", text)]

    return WhitespaceWords("en")


def herd_filters():
    from herd.plugins.curation_steps.gopher import GopherQuality, GopherRepetition

    return [GopherRepetition(), GopherQuality()]


def datatrove_filters(words: str):
    """datatrove's Gopher filters with its default (spaCy) words or with whitespace words."""
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter

    language = whitespace_words() if words == "whitespace" else "en"
    return [GopherRepetitionFilter(language=language), GopherQualityFilter(language=language)]


def run_herd(input_dir: Path, work: Path, seed: int, mode: str) -> dict:
    from herd.core.records import Document, Drop
    from herd.plugins.curation_steps.configs import MinHashConfig
    from herd.plugins.curation_steps.dedup.minhash import MinHashDedup
    from herd.plugins.curation_steps.text import id_hash

    import numpy as np

    start = time.perf_counter()
    filters = herd_filters() if mode == "pipeline" else []
    minhash = MinHashDedup(MinHashConfig(spill_dir=str(work / "spill"), seed=seed, verify_threshold=0.0))
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
    clusters, kept = {}, []
    with gzip.open(filtered, "rt") as src, gzip.open(work / "kept.jsonl.gz", "wt") as out:
        for line in src:
            doc = Document.from_dict(json.loads(line))
            clusters[doc.id] = labels.get(id_hash(doc.id), -1)
            if not isinstance(minhash.apply(doc), Drop):
                kept.append(doc.id)
                out.write(json.dumps(doc.to_dict()) + "\n")
    return {"seconds": time.perf_counter() - start, "docs_in": n_in, "docs_out": len(kept),
            "clusters": clusters, "kept": kept}


def run_datatrove(input_dir: Path, work: Path, seed: int, mode: str) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    _patch_datatrove_xxhash()
    start = time.perf_counter()
    cfg = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, seed=seed,
                        hash_config=HashConfig(precision=64))
    words = whitespace_words()
    common = {"workers": 1, "skip_completed": False}
    source = str(input_dir)
    stages = []
    if mode == "pipeline":
        source = str(work / "filtered")
        stages.append(LocalPipelineExecutor([JsonlReader(str(input_dir)), *datatrove_filters("whitespace"),
                                             JsonlWriter(source)], tasks=1, logging_dir=str(work / "l0"), **common))
    stages += [
        LocalPipelineExecutor([JsonlReader(source),
                               MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg, language=words)],
                              tasks=1, logging_dir=str(work / "l1"), **common),
        LocalPipelineExecutor([MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"),
                                                   config=cfg)], tasks=cfg.num_buckets, logging_dir=str(work / "l2"), **common),
        LocalPipelineExecutor([MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove"),
                                                   config=cfg, save_cluster_id=True)], tasks=1, logging_dir=str(work / "l3"), **common),
        LocalPipelineExecutor([JsonlReader(source),
                               MinhashDedupFilter(input_folder=str(work / "remove"), load_cluster_ids=True,
                                                  exclusion_writer=JsonlWriter(str(work / "removed"))),
                               JsonlWriter(str(work / "kept"))], tasks=1, logging_dir=str(work / "l4"), **common),
    ]
    for stage in stages:
        stage.run()
    seconds = time.perf_counter() - start
    clusters, kept = {}, []
    for part in ("kept", "removed"):
        for path in sorted((work / part).glob("*.jsonl.gz")):
            for line in gzip.open(path, "rt"):
                row = json.loads(line)
                clusters[row["id"]] = int(row["metadata"].get("minhash_cluster_id", -1))
                if part == "kept":
                    kept.append(row["id"])
    with gzip.open(input_dir / "input.jsonl.gz", "rt") as fh:
        n_in = sum(1 for _ in fh)
    return {"seconds": seconds, "docs_in": n_in, "docs_out": len(kept), "clusters": clusters, "kept": kept}


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


def run_side(side: str, input_dir: Path, work: Path, result: Path, seed: int, mode: str) -> None:
    work.mkdir(parents=True, exist_ok=True)
    if mode == "imports":  # the peak of a process that only imports what the side needs
        if side == "herd":
            import herd.plugins.curation_steps.dedup.minhash  # noqa: F401
            import herd.plugins.curation_steps.gopher  # noqa: F401
        else:
            import datatrove.executor  # noqa: F401
            import datatrove.pipeline.dedup  # noqa: F401
            import datatrove.pipeline.filters  # noqa: F401
        out = {"seconds": 0.0, "docs_in": 0, "docs_out": 0, "clusters": {}, "kept": []}
    else:
        out = (run_herd if side == "herd" else run_datatrove)(input_dir, work, seed, mode)
    out["peak_mib"] = peak_rss_mib()
    result.write_text(json.dumps(out))


def spawn(side: str, input_dir: Path, work: Path, seed: int, mode: str) -> dict:
    """Run one side in a subprocess (it reports its own peak memory); record the 1-minute
    load average before it starts."""
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    result = work.with_suffix(".json")
    load = os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, __file__, "--side", side, "--input-dir", str(input_dir),
                             "--work", str(work), "--result", str(result), "--mh-seed", str(seed),
                             "--mode", mode],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{side} ({mode}) failed:\n{stderr[-3000:]}")
    out = json.loads(result.read_text())
    out["load"] = load
    shutil.rmtree(work, ignore_errors=True)
    return out


# -- do the two make the same decisions? (untimed, in-process) ---------------------------------

HERD_RULE = {"top_2gram": "top_2gram", "top_3gram": "top_3gram", "top_4gram": "top_4gram",
             "too_few_words": "min_words", "too_many_words": "max_words", "short_words": "mean_word_length",
             "long_words": "mean_word_length", "symbol_ratio": "symbol_ratio", "bullet_lines": "bullet_lines",
             "ellipsis_lines": "ellipsis_lines", "alpha_ratio": "alpha_words", "stop_words": "stop_words"}
DATATROVE_RULE = {"gopher_short_doc": "min_words", "gopher_long_doc": "max_words",
                  "gopher_below_avg_threshold": "mean_word_length", "gopher_above_avg_threshold": "mean_word_length",
                  "gopher_too_many_hashes": "symbol_ratio", "gopher_too_many_ellipsis": "symbol_ratio",
                  "gopher_too_many_bullets": "bullet_lines", "gopher_too_many_end_ellipsis": "ellipsis_lines",
                  "gopher_below_alpha_threshold": "alpha_words", "gopher_enough_stop_words": "stop_words",
                  "top_2_gram": "top_2gram", "top_3_gram": "top_3gram", "top_4_gram": "top_4gram"}


def _common_rule(reason: str, table: dict[str, str]) -> str:
    """Both sides' names of one Gopher rule, as one name (``dup_5gram`` for datatrove's
    ``duplicated_5_n_grams``; the line and paragraph rules have the same names on both)."""
    if reason in table:
        return table[reason]
    match = re.fullmatch(r"(?:dup|duplicated)_(\d+)(?:gram|_n_grams)", reason)
    return f"dup_{match.group(1)}gram" if match else reason


def first_failures(input_dir: Path, words: str) -> dict[str, tuple[str | None, str | None]]:
    """Every document's first failing Gopher rule on each side (``None``: kept)."""
    from datatrove.data import Document as DtDocument

    herd = herd_filters()
    peer = datatrove_filters(words)
    out = {}
    with gzip.open(input_dir / "input.jsonl.gz", "rt") as src:
        for line in src:
            row = json.loads(line)
            mine = None
            for f in herd:
                failed = f.check(row["text"])
                if failed is not None:
                    mine = _common_rule(failed[0], HERD_RULE)
                    break
            theirs = None
            for f in peer:
                verdict = f.filter(DtDocument(text=row["text"], id=row["id"]))
                if verdict is not True:
                    theirs = _common_rule(verdict[1] if isinstance(verdict, tuple) else "unnamed", DATATROVE_RULE)
                    break
            out[row["id"]] = (mine, theirs)
    return out


def agreement(decisions: dict[str, tuple[str | None, str | None]]) -> dict:
    """Overall keep/drop agreement and, per rule, the documents dropped by it: by both sides,
    by one side while the other keeps them (``herd_only``, ``datatrove_only``), or by one side
    while the other drops them by an earlier rule (``herd_other``, ``datatrove_other``: the
    same keep/drop decision, reached through another rule)."""
    same = sum((h is None) == (d is None) for h, d in decisions.values())
    rules: dict[str, Counter] = defaultdict(Counter)
    for h, d in decisions.values():
        if h is not None and h == d:
            rules[h]["both"] += 1
            continue
        if h is not None:
            rules[h]["herd_only" if d is None else "herd_other"] += 1
        if d is not None:
            rules[d]["datatrove_only" if h is None else "datatrove_other"] += 1
    return {"documents": len(decisions), "same_decision": same,
            "herd_dropped": sum(h is not None for h, _ in decisions.values()),
            "datatrove_dropped": sum(d is not None for _, d in decisions.values()),
            "rules": {rule: dict(c) for rule, c in sorted(rules.items())}}


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

RULE_REASONS = {
    "bullet_lines": "herd counts `*`, `‣`, `◦`, `⁃` as bullets too and divides by the non-empty lines; "
                    "datatrove counts only `•` and `-` and divides by all lines, blank ones included",
    "dup_5gram": "datatrove skips n words after each repeated n-gram and counts its characters without "
                 "spaces, so overlapping repeats count less; herd counts every character covered by a "
                 "repeated n-gram once (the Gopher paper's \"fraction of characters in duplicate n-grams\")",
    "mean_word_length": "herd leaves out of the mean the words made only of non-word characters (`[^\\w\\s]+`); "
                        "datatrove those made only of the characters of its punctuation list",
    "symbol_ratio": "herd compares `#` and ellipses together to the words (one Gopher rule); datatrove "
                    "compares each to the words on its own",
    "alpha_words": "with spaCy's words, punctuation tokens count as words without a letter",
}


def timed(mode: str, folder: Path, runs: int) -> dict[str, list[dict]]:
    """One discarded warm-up run of each side, then ``runs`` repeats alternating the order."""
    for side in ("herd", "datatrove"):
        spawn(side, folder, CACHE / f"work-{side}", seed=1, mode=mode)
    results: dict[str, list[dict]] = {"herd": [], "datatrove": []}
    for run in range(runs):
        for side in (("herd", "datatrove") if run % 2 == 0 else ("datatrove", "herd")):
            out = spawn(side, folder, CACHE / f"work-{side}", seed=run + 1, mode=mode)  # MinHash seed
            results[side].append(out)
            print(f"{mode} run {run} {side}: {out['docs_in'] / out['seconds']:.0f} docs/s, {out['seconds']:.1f}s, "
                  f"peak {out['peak_mib']:.0f} MiB, kept {out['docs_out']}, load {out['load']:.1f}", flush=True)
    return results


def pair_agreement(herd: dict, peer: dict) -> float:
    """Jaccard of the two sides' sets of duplicate pairs (documents put in one cluster). Not the
    kept sets: each side keeps one document per cluster, and which one is its own choice."""
    ids = set(herd["clusters"]) | set(peer["clusters"])
    mine, theirs = pairs(herd["clusters"], ids), pairs(peer["clusters"], ids)
    return len(mine & theirs) / max(1, len(mine | theirs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000, help="base documents (before near-duplicates)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-sizes", default="", help="e.g. 5000,20000,80000: herd MinHash memory growth")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--side", choices=("herd", "datatrove"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=(*MODES, "imports"), default="pipeline", help=argparse.SUPPRESS)
    parser.add_argument("--input-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mh-seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--report-only", action="store_true",
                        help=f"render --output again from the last run's measurements ({CACHE}/last-run.json)")
    args = parser.parse_args()
    if args.side:
        run_side(args.side, args.input_dir, args.work, args.result, args.mh_seed, args.mode)
        return
    if args.report_only:
        write_report(args, **json.loads((CACHE / "last-run.json").read_text()))
        return

    folder = CACHE / f"input-{args.docs}-{args.seed}"
    truth = build_input(args.docs, args.seed, folder)
    jaccard = json.loads((folder / "jaccard.json").read_text())
    print(f"input: {len(truth)} documents; Jaccard with source: " + ", ".join(
        f"{k} n={len(v)} {min(v):.2f}-{max(v):.2f}" for k, v in jaccard.items()), flush=True)
    decisions = {}
    try:  # datatrove's default words need spaCy, which is not a herd dependency
        decisions["spacy"] = agreement(first_failures(folder, "spacy"))
    except ImportError as exc:
        print(f"no spaCy column ({exc}): pip install spacy to compare datatrove's default words", flush=True)
    decisions["whitespace"] = agreement(first_failures(folder, "whitespace"))
    for words, a in decisions.items():
        print(f"filters, datatrove with {words} words: {a['same_decision']}/{a['documents']} decisions agree",
              flush=True)
    imports = {side: spawn(side, folder, CACHE / f"work-{side}", seed=1, mode="imports")["peak_mib"]
               for side in ("herd", "datatrove")}
    results = {mode: timed(mode, folder, args.runs) for mode in MODES}
    pipe = results["pipeline"]
    both = set(pipe["herd"][0]["clusters"]) & set(pipe["datatrove"][0]["clusters"])  # same every run
    scores = {}
    for mode, res in results.items():
        ids = both if mode == "pipeline" else set(truth)
        scores[mode] = {side: [precision_recall(r["clusters"], truth, ids) for r in res[side]] for side in res}
    same_pairs = [pair_agreement(h, d) for h, d in zip(results["minhash"]["herd"], results["minhash"]["datatrove"])]
    memory = minhash_memory([int(s) for s in args.memory_sizes.split(",") if s], folder) if args.memory_sizes else []
    for mode in results:  # the reports need only the clusters, not the kept lists
        for side in results[mode].values():
            for r in side:
                r.pop("kept", None)
    raw = {"truth": truth, "results": results, "scores": scores, "decisions": decisions, "imports": imports,
           "same_pairs": same_pairs, "n_both": len(both), "memory": memory, "jaccard": jaccard}
    (CACHE / "last-run.json").write_text(json.dumps(raw))  # --report-only renders it again
    if args.output:
        write_report(args, **raw)


def rule_table(decisions: dict[str, dict]) -> list[str]:
    """The per-rule agreement with whitespace words, and the one rule spaCy's words change."""
    lines = ["", "Per rule, with whitespace words: documents dropped by the rule on both sides, on one side "
             "while the other keeps them, and on one side while the other drops them by an earlier rule "
             "(same decision, other rule):", "",
             "| rule | both | herd only | datatrove only | other rule on the other side | why they differ |",
             "|---|---:|---:|---:|---:|---|"]
    for rule, c in decisions["whitespace"]["rules"].items():
        why = ""
        if c.get("herd_only") or c.get("datatrove_only"):
            is_ngram = re.fullmatch(r"dup_\d+gram", rule) is not None
            why = (RULE_REASONS["dup_5gram"] if rule == "dup_5gram" else "as for dup_5gram" if is_ngram
                   else RULE_REASONS.get(rule, ""))
        lines.append(f"| {rule} | {c.get('both', 0)} | {c.get('herd_only', 0)} | {c.get('datatrove_only', 0)} | "
                     f"{c.get('herd_other', 0) + c.get('datatrove_other', 0)} | {why} |")
    if "spacy" not in decisions:
        return lines + [""]
    spacy = decisions["spacy"]["rules"].get("alpha_words", {})
    lines += ["", f"With spaCy's words (datatrove's default), `alpha_words` drops {spacy.get('datatrove_only', 0)} "
              f"documents that herd keeps: {RULE_REASONS['alpha_words']}.", ""]
    return lines


def _speed(res: list[dict]) -> float:
    return statistics.median(r["docs_in"] / r["seconds"] for r in res)


def _ratio(res: dict[str, list[dict]]) -> tuple[float, float, float]:
    """Median, min and max of the per-repeat speed ratios herd / datatrove."""
    ratios = [d["seconds"] / h["seconds"] for h, d in zip(res["herd"], res["datatrove"])]
    return statistics.median(ratios), min(ratios), max(ratios)


def _loads(res: dict[str, list[dict]]) -> list[float]:
    return [r["load"] for side in res.values() for r in side]


def write_report(args, truth, results, scores, decisions, imports, same_pairs, n_both, memory, jaccard) -> None:
    from summary_rows import BenchResult, Row, load_range, machine, write_result

    command = (f"python bench/curation_vs_datatrove.py --docs {args.docs} --runs {args.runs} "
               f"--output {args.output}")
    n_in = results["pipeline"]["herd"][0]["docs_in"]
    lines = [
        "# Curation: herd vs datatrove",
        "",
        f"`{command}` on a {os.cpu_count()}-core {platform.machine()} CPU shared with other jobs (Python "
        f"{platform.python_version()}, datatrove {_version('datatrove')}). Both: Gopher repetition + Gopher quality "
        "filters with Gopher's defaults, then MinHash (word 5-grams, 14 bands x 8 rows, 64-bit hashes, no "
        "Jaccard check after LSH), one process, gzip JSONL in and out. Each repeat alternates which side runs "
        "first; one warm-up run of each side is discarded. See the script's docstring for how the input and "
        "its labels are made.",
        "",
        f"Input: {n_in} documents of real text (Rust and Node.js documentation); made from them "
        "by controlled edits (word 5-gram Jaccard with the source, min-median-max): " + "; ".join(
            f"{len(v)} {k} ({min(v):.2f}-{statistics.median(v):.2f}-{max(v):.2f})" for k, v in jaccard.items())
        + ". `near` copies are labelled duplicates of their source, `gray` and `far` ones distinct.",
        "",
        "## Do the two filter the same way?",
        "",
        "Each document's first failing rule on both sides (untimed). datatrove's Gopher filters count "
        "words with spaCy by default; given whitespace words (a `WordTokenizer` passed as `language`, "
        "`str.split` as herd and the Gopher paper count), they make the same rules, and the timed runs "
        "below use that.",
        "",
        "| datatrove's words | same keep/drop decision | herd drops | datatrove drops |",
        "|---|---:|---:|---:|",
    ]
    for words, a in decisions.items():
        lines.append(f"| {words} | {a['same_decision']} of {a['documents']} "
                     f"({a['same_decision'] / a['documents']:.1%}) | {a['herd_dropped']} | {a['datatrove_dropped']} |")
    lines += rule_table(decisions)
    rows = []
    for mode, title, what in (("pipeline", "Filters + MinHash", "Gopher filters + MinHash dedup, documents/s"),
                              ("minhash", "MinHash alone (unfiltered input)",
                               "MinHash dedup alone (same input, same parameters), documents/s")):
        res = results[mode]
        med, lo, hi = _ratio(res)
        mean_pr = {side: (statistics.mean(p for p, _ in s), statistics.mean(r for _, r in s))
                   for side, s in scores[mode].items()}
        lines += [
            f"## {title}",
            "",
            "| | herd | datatrove | herd / datatrove |",
            "|---|---:|---:|---:|",
            f"| documents/s (median of {args.runs}) | {_speed(res['herd']):.0f} | {_speed(res['datatrove']):.0f} | "
            f"{med:.2f}x (median of per-repeat ratios; {lo:.2f}-{hi:.2f}) |",
            f"| wall seconds (median) | {statistics.median(r['seconds'] for r in res['herd']):.1f} | "
            f"{statistics.median(r['seconds'] for r in res['datatrove']):.1f} | |",
            f"| peak memory, MiB (median) | {statistics.median(r['peak_mib'] for r in res['herd']):.0f} | "
            f"{statistics.median(r['peak_mib'] for r in res['datatrove']):.0f} | |",
            f"| documents kept (run 1) | {res['herd'][0]['docs_out']} | {res['datatrove'][0]['docs_out']} | |",
            f"| near-dup precision / recall (mean of runs) | {mean_pr['herd'][0]:.3f} / {mean_pr['herd'][1]:.3f} | "
            f"{mean_pr['datatrove'][0]:.3f} / {mean_pr['datatrove'][1]:.3f} | |",
            "",
            "Per repeat (herd s, datatrove s, 1-minute load average before each): " + ", ".join(
                f"({h['seconds']:.1f} at {h['load']:.1f}, {d['seconds']:.1f} at {d['load']:.1f})"
                for h, d in zip(res["herd"], res["datatrove"])) + ".",
            "",
        ]
        if mode == "pipeline":
            lines += [f"Precision and recall are among the {n_both} documents both tools' filters kept; run k "
                      "uses MinHash seed k in both tools.", ""]
        else:
            lines += [f"The two sides' duplicate pairs agree (Jaccard of the pair sets, median over the repeats): "
                      f"{statistics.median(same_pairs):.1%}; LSH is random per seed and the tools' hash functions "
                      "differ, so borderline pairs differ from run to run. Which document of a cluster is kept is "
                      "each tool's own choice. This is the component figure: the same work on both sides. "
                      "(datatrove's default spaCy words would make its shingling slower: that is tokenisation, "
                      "not MinHash.)", ""]
        peer_note = "datatrove 0.10.1, whitespace words"
        rows.append(Row(what=what, herd=f"{_speed(res['herd']):.0f}",
                        peer=f"{peer_note}: {_speed(res['datatrove']):.0f}", ratio=f"{med:.1f}x ({lo:.1f}-{hi:.1f})",
                        load=load_range(_loads(res)), page="benchmarks/curation.md"))
    agree = decisions["whitespace"]
    rows[0] = Row(**{**rows[0].__dict__, "goal": f"same decisions on {agree['same_decision'] / agree['documents']:.1%} "
                                                 "of documents (>= 95%)"})
    rows[1] = Row(**{**rows[1].__dict__, "goal": f"duplicate pairs agree: {statistics.median(same_pairs):.1%} "
                                                 "(Jaccard of the pair sets)"})
    pipe = results["pipeline"]
    herd_mem = statistics.median(r["peak_mib"] for r in pipe["herd"])
    dt_mem = statistics.median(r["peak_mib"] for r in pipe["datatrove"])
    lines += [
        "## Memory",
        "",
        f"Peak memory of a process that only imports each side's modules: herd {imports['herd']:.0f} MiB, "
        f"datatrove {imports['datatrove']:.0f} MiB. Of the pipeline's peaks ({herd_mem:.0f} and {dt_mem:.0f} MiB) "
        f"the data takes {herd_mem - imports['herd']:.0f} and {dt_mem - imports['datatrove']:.0f} MiB: "
        "most of the difference is import size, not the algorithm.",
        "",
    ]
    rows.append(Row(what="Gopher filters + MinHash dedup, peak memory MiB (of which imports)",
                    herd=f"{herd_mem:.0f} ({imports['herd']:.0f})", peer=f"datatrove: {dt_mem:.0f} ({imports['datatrove']:.0f})",
                    ratio=f"{herd_mem / dt_mem:.2f}x", load=load_range(_loads(pipe)), page="benchmarks/curation.md"))
    if memory:
        lines += [
            "## MinHash peak memory versus input size (herd)",
            "",
            "A process that only runs `minhash_dedup` (observe, finalize, apply) on n distinct documents "
            "(25 random sentences of the input each, ~500 words); peak RSS minus that of the same process "
            "on 0 documents.",
            "",
            "| documents | peak memory over baseline (MiB) | bytes per document | seconds (incl. making the documents) |",
            "|---:|---:|---:|---:|",
        ]
        lines += [f"| {n} | {mib:.1f} | {mib * 2**20 / n:.0f} | {sec:.1f} |" for n, mib, sec in memory]
        lines.append("")
    old = args.output.read_text() if args.output.exists() else ""
    keep = old[old.index("## Heuristic filters: herd vs NeMo"):] if "## Heuristic filters: herd vs NeMo" in old else ""
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + ("\n" + keep if keep else ""))
    write_result(BenchResult(bench="curation_vs_datatrove", command=command, machine=machine(), rows=rows))


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
