"""Tokenisation and hashing helpers shared by the curation steps.

Two word notions are used on purpose: Gopher's heuristics count whitespace-separated words
(Rae et al. 2021, appendix A), while dedup and the KL filter use lower-cased ``\\w+`` tokens so
that punctuation and case do not hide duplicates.
"""

from __future__ import annotations

import re

import numpy as np
import xxhash

WORD_TOKEN = re.compile(r"\w+", re.UNICODE)
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n")


def gopher_words(text: str) -> list[str]:
    """Whitespace words, as Gopher's quality rules count them."""
    return text.split()


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens without punctuation (dedup, KL divergence)."""
    return WORD_TOKEN.findall(text.lower())


def lines(text: str) -> list[str]:
    """Non-blank lines, stripped."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, stripped, empty ones removed."""
    return [p.strip() for p in _PARAGRAPH_SPLIT.split(text) if p.strip()]


def hash64(value: str) -> int:
    """A stable 64-bit hash (xxh3): the same in every process, unlike ``hash()``."""
    return xxhash.xxh3_64_intdigest(value.encode("utf-8", "surrogatepass"))


def id_hash(doc_id: str) -> int:
    """The hash that orders documents for deterministic survivor choices."""
    return xxhash.xxh3_64_intdigest(doc_id.encode("utf-8", "surrogatepass"), seed=7)


# Vectorised hashing of word spans. A polynomial hash mod 2**64 over the bytes of the
# normalised text (tokens joined by single spaces) gives the hash of any span in O(1) from
# prefix sums, so every shingle or token of a document is hashed in a few numpy passes instead
# of one Python call per shingle. The odd base is invertible mod 2**64, which turns the
# sequential prefix recurrence into a cumulative sum. A splitmix64 finaliser spreads the bits.
_BASE = 0x100000001B3
_BASE_INV = pow(_BASE, -1, 2**64)
_U64 = np.uint64


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise on uint64 (wrapping arithmetic)."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


_POWERS: dict[int, np.ndarray] = {}


def _powers(base: int, n: int) -> np.ndarray:
    """``base**0 .. base**n`` mod 2**64, from a per-process table grown by doubling (every
    document needs a prefix of the same table)."""
    table = _POWERS.get(base)
    if table is None or len(table) <= n:
        size = max(n + 1, 2 * len(table) if table is not None else 1 << 16)
        table = np.full(size, base, dtype=np.uint64)
        table[0] = 1
        table = np.cumprod(table, dtype=np.uint64)
        _POWERS[base] = table
    return table[: n + 1]


def word_spans(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised bytes of ``text`` (lower-cased ``\\w+`` tokens joined by spaces) and each
    token's start and end byte offsets."""
    data = " ".join(tokens(text)).encode("utf-8", "surrogatepass")
    if not data:
        empty = np.zeros(0, np.int64)
        return np.zeros(0, np.uint8), empty, empty
    raw = np.frombuffer(data, dtype=np.uint8)
    spaces = np.flatnonzero(raw == 0x20)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [len(raw)]))
    return raw, starts, ends


def span_hashes(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Stable 64-bit hashes of the byte spans ``raw[starts[i]:ends[i]]``."""
    n = len(raw)
    if n == 0 or len(starts) == 0:
        return np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        pw = _powers(_BASE, n)
        inv = _powers(_BASE_INV, n - 1)
        scaled = np.cumsum((raw.astype(np.uint64) + _U64(1)) * inv, dtype=np.uint64)
        prefix = np.zeros(n + 1, np.uint64)
        prefix[1:] = pw[:-1] * scaled  # prefix[i] = hash of raw[:i]
        h = prefix[ends] - prefix[starts] * pw[ends - starts]
        return _mix(h ^ (ends - starts).astype(np.uint64))


def token_hashes(text: str) -> np.ndarray:
    """One stable hash per normalised token of ``text``."""
    raw, starts, ends = word_spans(text)
    return span_hashes(raw, starts, ends)


def shingle_hashes(text: str, n: int) -> np.ndarray:
    """Hashes of the word ``n``-grams of ``text`` (one shingle when it has fewer words)."""
    raw, starts, ends = word_spans(text)
    if len(starts) == 0:
        return np.zeros(0, np.uint64)
    if len(starts) < n:
        return span_hashes(raw, starts[:1], ends[-1:])
    return span_hashes(raw, starts[: len(starts) - n + 1], ends[n - 1:])
