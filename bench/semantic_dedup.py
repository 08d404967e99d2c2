"""Semantic dedup at scale on CPU: time and peak memory of herd's semantic dedup on N
synthetic embeddings, a SemDeDup-style reference on the same clusters, and the default
embedding model's throughput.

Synthetic data: N/4 random "topics" in ``--dim`` dimensions; each topic has 4 members,
either near-copies (cosine ~0.97 to each other: duplicates) or loose relatives (cosine
~0.5: distinct), half and half, so the right answer is known: ~N/8 + N/2 rows kept.
Embeddings are written to a disk memmap in chunks, as the funnel's bounded-memory path
does, and read back by the dedup.

The reference is the SemDeDup algorithm as NeMo Curator runs it (re-implemented here on
CPU; NeMo Curator itself needs a GPU): per cluster, the full pairwise similarity matrix,
and a row removed when its similarity to any *earlier* row (kept or not) is at least the
threshold. herd compares only with rows *kept so far* (the recipe's rule). One untimed
warm-up run of each side, then ``--runs`` repeats alternating which side runs first; the
in-cluster step's figures go to ``bench/results/semantic_dedup.json``.

    python bench/semantic_dedup.py --n 1000000 --runs 3 --skip-embed
    python bench/semantic_dedup.py --embed-only --texts 2000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from herd.lib.sft_funnel.semdedup import semantic_dedup
from summary_rows import BenchResult, Row, load_range, machine, write_result


class PeakMemory:
    """Samples /proc/self/status: RssAnon (heap, what grows with data held in memory) and
    VmHWM (peak resident, including the memmap's file pages, which the kernel can drop)."""

    def __init__(self, every: float = 0.05):
        self.every, self.anon, self._stop = every, 0, threading.Event()

    def _read(self) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
        return 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.anon = max(self.anon, self._read())
            time.sleep(self.every)

    def __enter__(self):
        self.anon = self._read()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.anon = max(self.anon, self._read())


def hwm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def make_embeddings(path: Path, n: int, dim: int, seed: int, chunk: int = 65536) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
    for start in range(0, n, chunk):
        rows = min(chunk, n - start)
        groups = -(-rows // 4)
        centers = np.repeat(rng.standard_normal((groups, dim), dtype=np.float32), 4, axis=0)[:rows]
        tight = np.repeat(rng.random(groups) < 0.5, 4)[:rows]
        noise_scale = np.where(tight, 0.18, 1.0).astype(np.float32)[:, None]
        vectors = centers + noise_scale * rng.standard_normal((rows, dim), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        out[start:start + rows] = vectors
    out.flush()
    return np.load(path, mmap_mode="r")


def semdedup_reference(embeddings, cluster: np.ndarray, priority: np.ndarray, threshold: float) -> np.ndarray:
    keep = np.ones(len(cluster), dtype=bool)
    order = np.lexsort((np.arange(len(cluster)), -priority, cluster))
    bounds = np.flatnonzero(np.diff(cluster[order])) + 1
    for members in np.split(order, bounds):
        x = np.asarray(embeddings[np.sort(members)])[np.argsort(np.argsort(members))]
        sims = np.triu(x @ x.T, k=1)
        keep[members] = sims.max(axis=0) < threshold
    return keep


def bench_dedup(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        emb = make_embeddings(Path(tmp) / "emb.npy", args.n, args.dim, args.seed)
        print(f"generated {args.n} x {args.dim} float32 embeddings ({emb.nbytes / 2**30:.2f} GiB on disk) "
              f"in {time.perf_counter() - t0:.1f}s")
        priority = np.random.default_rng(1).random(args.n)
        # Warm-up, untimed: page the embeddings in, and the clusters the reference runs on.
        warm = semantic_dedup(emb, priority, threshold=args.threshold, rows_per_cluster=args.rows_per_cluster,
                              max_clusters=args.max_clusters)
        semdedup_reference(emb, warm.cluster, priority, args.threshold)
        herd_s, herd_cpu, greedy, ref_s, ref_cpu, cluster_s, loads, anon = [], [], [], [], [], [], [], 0

        def run_herd():
            nonlocal anon, result
            with PeakMemory() as mem:
                t0, c0 = time.perf_counter(), time.process_time()
                result = semantic_dedup(emb, priority, threshold=args.threshold,
                                        rows_per_cluster=args.rows_per_cluster, max_clusters=args.max_clusters)
                herd_s.append(time.perf_counter() - t0)
                herd_cpu.append(time.process_time() - c0)
            anon = max(anon, mem.anon)
            cluster_s.append(result.seconds["clustering"])
            greedy.append(herd_s[-1] - cluster_s[-1])

        def run_reference():
            nonlocal ref_kept
            t0, c0 = time.perf_counter(), time.process_time()
            ref_kept = int(semdedup_reference(emb, warm.cluster, priority, args.threshold).sum())
            ref_s.append(time.perf_counter() - t0)
            ref_cpu.append(time.process_time() - c0)

        result, ref_kept = warm, 0
        for run in range(args.runs):
            loads.append(os.getloadavg()[0])
            for side in ((run_herd, run_reference) if run % 2 == 0 else (run_reference, run_herd)):
                side()
            kept = int(result.keep.sum())
            print(f"run {run} (load {loads[-1]:.1f}): herd {herd_s[-1]:.1f}s wall / {herd_cpu[-1]:.1f}s CPU "
                  f"(clustering {result.seconds['clustering']:.1f}s, greedy {result.seconds['dedup']:.1f}s wall), "
                  f"kept {kept}; reference on the same clusters {ref_s[-1]:.1f}s wall / {ref_cpu[-1]:.1f}s CPU, "
                  f"kept {ref_kept}")
        expected = args.n // 8 + args.n // 2
        med = statistics.median
        print(f"\nN={args.n} dim={args.dim} clusters={result.clusters} threshold={args.threshold} runs={args.runs}")
        print(f"herd semantic dedup: median {med(herd_s):.1f}s wall, {med(herd_cpu):.1f}s CPU "
              f"= {args.n / med(herd_s):,.0f} rows/s wall; kept {kept} (synthetic truth: about {expected})")
        print(f"  k-means + assignment: median {med(cluster_s):.1f}s; greedy dedup: {med(greedy):.1f}s")
        print(f"SemDeDup-style reference on the same clusters: median {med(ref_s):.1f}s wall, {med(ref_cpu):.1f}s CPU, "
              f"kept {ref_kept}; herd greedy / reference = {med(greedy) / med(ref_s):.2f}x wall time")
        print(f"peak anonymous memory during herd's dedup: {anon / 2**20:.0f} MiB "
              f"(embeddings: {emb.nbytes / 2**20:.0f} MiB); process VmHWM incl. memmap pages: {hwm() / 2**20:.0f} MiB")
        # Each run's ratio (both sides back to back) is robust to load changing between runs.
        speedup = [r / g for r, g in zip(ref_s, greedy)]
        write_result(BenchResult(
            bench="semantic_dedup", machine=machine(),
            command=f"python bench/semantic_dedup.py --n {args.n} --dim {args.dim} --runs {args.runs} --skip-embed",
            rows=[Row(what=f"semantic dedup of {args.n:,} x {args.dim} embeddings, CPU: in-cluster step "
                           f"(same clusters; herd compares with kept rows, SemDeDup with all earlier rows)",
                      herd=f"greedy {med(greedy):.2f} s (whole dedup {med(herd_s):.1f} s wall, "
                           f"{anon / 2**20:.0f} MiB peak anon); kept {kept:,} (truth about {expected:,})",
                      peer=f"NumPy SemDeDup reference: {med(ref_s):.2f} s, kept {ref_kept:,} (NeMo Curator: GPU only)",
                      ratio=f"speed {statistics.median(speedup):.2f}x the reference "
                            f"({min(speedup):.2f}-{max(speedup):.2f})",
                      load=load_range(loads), page="benchmarks/judges.md")]))


def bench_embed(args) -> None:
    from herd.lib.sft_funnel.embed import Embedder

    words = ("the a model data river city music system garden train question answer history light "
             "table market winter reason number paper window story language computer").split()
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(8, 40)))) for _ in range(args.texts)]
    t0 = time.perf_counter()
    embedder = Embedder(batch_size=args.batch_size)
    print(f"model load {time.perf_counter() - t0:.1f}s")
    embedder.encode(texts[:64])
    rates = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        embedder.encode(texts)
        rates.append(len(texts) / (time.perf_counter() - t0))
    import torch

    print(f"all-MiniLM-L6-v2 on CPU ({torch.get_num_threads()} threads), {args.texts} texts of 8-40 words, "
          f"batch {args.batch_size}: median {statistics.median(rates):.1f} embeddings/s "
          f"(runs: {', '.join(f'{r:.1f}' for r in rates)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--rows-per-cluster", type=int, default=1000)
    parser.add_argument("--max-clusters", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embed-only", action="store_true")
    parser.add_argument("--skip-embed", action="store_true")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    if not args.embed_only:
        bench_dedup(args)
    if not args.skip_embed:
        bench_embed(args)


if __name__ == "__main__":
    main()
