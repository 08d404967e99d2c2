"""Semantic dedup (docs/recipe.md section 5; NeMo Curator's SemDeDup and Deita's selection are
the peers): k-means clusters of normalised embeddings, rows sorted inside each cluster by
priority (quality x difficulty), and a row kept only if its cosine similarity to every row
kept so far in its cluster is below the threshold.

Memory is bounded by the largest cluster, not the data: embeddings may be a disk memmap,
k-means trains on a sample (faiss's 256 points per centroid), assignment runs in batches
against the centroids (the coarse quantizer of an IVF index), and each cluster is compared
block by block. faiss runs k-means and assignment on GPUs when its build has them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

ASSIGN_BATCH = 65536
POINTS_PER_CENTROID = 256


@dataclass
class DedupResult:
    keep: np.ndarray  # bool, per row
    duplicate_of: np.ndarray  # int64: the kept row it duplicates, -1 for kept rows
    similarity: np.ndarray  # float32: cosine to that kept row (0 for kept rows)
    cluster: np.ndarray  # int64: k-means cluster of each row
    clusters: int
    gpu: bool
    seconds: dict[str, float] = field(default_factory=dict)  # "clustering", "dedup"


def faiss_gpus() -> int:
    import faiss

    return faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0


def cluster_count(n: int, rows_per_cluster: int, max_clusters: int) -> int:
    return max(1, min(max_clusters, math.ceil(n / max(rows_per_cluster, 1)), n))


def kmeans_assign(
    embeddings: np.ndarray, k: int, *, iterations: int = 20, seed: int = 0, use_gpu: bool | None = None
) -> tuple[np.ndarray, bool]:
    """Cluster ids of every row (k-means on a sample, assignment in batches) and whether
    a GPU was used."""
    import faiss

    n, dim = embeddings.shape
    gpu = faiss_gpus() > 0 if use_gpu is None else use_gpu
    if k == 1:
        return np.zeros(n, dtype=np.int64), gpu
    rng = np.random.default_rng(seed)
    limit = k * POINTS_PER_CENTROID
    sample_idx = np.sort(rng.choice(n, size=limit, replace=False)) if n > limit else np.arange(n)
    sample = np.ascontiguousarray(embeddings[sample_idx], dtype=np.float32)
    kmeans = faiss.Kmeans(dim, k, niter=iterations, seed=seed, spherical=True, gpu=gpu,
                          max_points_per_centroid=POINTS_PER_CENTROID, verbose=False)
    kmeans.train(sample)
    del sample
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(kmeans.centroids)
    if gpu:
        quantizer = faiss.index_cpu_to_all_gpus(quantizer)
    assignment = np.empty(n, dtype=np.int64)
    for start in range(0, n, ASSIGN_BATCH):
        batch = np.ascontiguousarray(embeddings[start:start + ASSIGN_BATCH], dtype=np.float32)
        _, ids = quantizer.search(batch, 1)
        assignment[start:start + len(batch)] = ids[:, 0]
    return assignment, gpu


def semantic_dedup(
    embeddings: np.ndarray,
    priority: np.ndarray | None = None,
    *,
    threshold: float = 0.9,
    rows_per_cluster: int = 1000,
    max_clusters: int = 10000,
    iterations: int = 20,
    block_size: int = 1024,
    seed: int = 0,
    use_gpu: bool | None = None,
) -> DedupResult:
    """Greedy near-duplicate removal; ``embeddings`` must be L2-normalised rows (an
    in-memory array or a memmap). Higher ``priority`` rows are considered first; ties go
    to the earlier row, so the result does not depend on anything but the inputs."""
    n = embeddings.shape[0]
    priority = np.zeros(n) if priority is None else np.asarray(priority, dtype=np.float64)
    if priority.shape != (n,):
        raise ValueError(f"priority has shape {priority.shape}, expected ({n},)")
    keep = np.ones(n, dtype=bool)
    duplicate_of = np.full(n, -1, dtype=np.int64)
    similarity = np.zeros(n, dtype=np.float32)
    if n == 0:
        return DedupResult(keep, duplicate_of, similarity, np.zeros(0, dtype=np.int64), 0, False)
    k = cluster_count(n, rows_per_cluster, max_clusters)
    start = time.perf_counter()
    cluster, gpu = kmeans_assign(embeddings, k, iterations=iterations, seed=seed, use_gpu=use_gpu)
    clustered = time.perf_counter()
    order = np.lexsort((np.arange(n), -priority, cluster))
    bounds = np.flatnonzero(np.diff(cluster[order])) + 1
    for members in np.split(order, bounds):
        _dedup_cluster(embeddings, members, threshold, block_size, keep, duplicate_of, similarity)
    seconds = {"clustering": clustered - start, "dedup": time.perf_counter() - clustered}
    return DedupResult(keep, duplicate_of, similarity, cluster, k, gpu, seconds)


def _dedup_cluster(embeddings, members, threshold, block_size, keep, duplicate_of, similarity) -> None:
    """Greedy pass over one cluster's rows (already in priority order), block by block."""
    kept_ids: list[np.ndarray] = []
    kept_vecs: list[np.ndarray] = []
    for start in range(0, len(members), block_size):
        block = members[start:start + block_size]
        # Reading a memmap with sorted indices is sequential-ish; restore block order after.
        sorter = np.argsort(block)
        vectors = np.empty((len(block), embeddings.shape[1]), dtype=np.float32)
        vectors[sorter] = embeddings[block[sorter]]
        if kept_vecs:
            previous = np.concatenate(kept_vecs)
            previous_ids = np.concatenate(kept_ids)
            sims = vectors @ previous.T
            best = sims.argmax(axis=1)
            best_sim = sims[np.arange(len(block)), best].astype(np.float32)
            best_id = previous_ids[best].astype(np.int64)
        else:
            best_sim = np.full(len(block), -np.inf, dtype=np.float32)
            best_id = np.full(len(block), -1, dtype=np.int64)
        # Inside the block: a row is dropped if an earlier accepted row of the block is
        # too similar to it.
        inner = vectors @ vectors.T
        near = np.tril(inner >= threshold, k=-1)
        accepted = _resolve_block(near, best_sim < threshold)
        in_block = (best_sim < threshold) & ~accepted
        if in_block.any():
            masked = np.where(near[in_block] & accepted[None, :], inner[in_block], -np.inf)
            j = masked.argmax(axis=1)
            best_sim[in_block] = masked[np.arange(len(j)), j]
            best_id[in_block] = block[j]
        dropped = ~accepted
        keep[block[dropped]] = False
        duplicate_of[block[dropped]] = best_id[dropped]
        similarity[block[dropped]] = best_sim[dropped]
        if accepted.any():
            kept_ids.append(block[accepted])
            kept_vecs.append(vectors[accepted])


def _resolve_block(near: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Which rows of a block the greedy rule keeps. ``near[i, j]`` (j < i): rows i and j are
    too similar; ``candidate``: rows not already removed by rows kept in earlier blocks.

    Row i is kept iff it is a candidate and no earlier *kept* row is near it. Most rows are
    settled by a few vectorised rounds (a row with no earlier candidate neighbour is kept;
    a row with an earlier kept neighbour is dropped); chains left over are walked in order.
    """
    UNKNOWN, DROPPED, KEPT = -1, 0, 1
    state = np.where(candidate, UNKNOWN, DROPPED)
    for _ in range(16):
        unknown = state == UNKNOWN
        if not unknown.any():
            break
        alive = state != DROPPED
        kept_now = unknown & ~(near & alive[None, :]).any(axis=1)
        dropped_now = unknown & (near & (state == KEPT)[None, :]).any(axis=1)
        if not kept_now.any() and not dropped_now.any():
            break
        state[kept_now] = KEPT
        state[dropped_now] = DROPPED
    for i in np.flatnonzero(state == UNKNOWN):  # in order: earlier rows are settled first
        state[i] = DROPPED if (near[i, :i] & (state[:i] == KEPT)).any() else KEPT
    return state == KEPT
