"""Token counts of text under the tokenizer a long-context sample is measured in.

``--tokenizer`` is a Hugging Face tokenizer directory or a ``tokenizer.json`` (herd's
exported tokenizer is one); ``TokenCounter.of`` adapts a tokenizer object already loaded
(herd's own ``lib.llama`` tokenizer, which the pretraining NIAH gate holds, a
``tokenizers.Tokenizer`` or a ``transformers`` tokenizer). Counts exclude special tokens,
as RULER's ``text_to_tokens`` does; a sample's ``length`` adds the task's generation budget
on top.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from herd.core.errors import ConfigError

LOAD_HINT = "pass a Hugging Face tokenizer directory or a tokenizer.json (herd export-hf writes one)"


class TokenCounter:
    """Wraps a ``tokenizers.Tokenizer`` (the fast path: batch counts run on every core) or,
    for a directory without ``tokenizer.json``, a ``transformers`` tokenizer."""

    def __init__(self, fast=None, slow=None, source: str = ""):
        if fast is not None:
            # A saved tokenizer may truncate or pad (sentence-embedding models ship
            # max_length 128): either would falsify the count.
            fast.no_truncation()
            fast.no_padding()
        self.fast, self.slow, self.source = fast, slow, source

    @classmethod
    def load(cls, path: Path | str) -> "TokenCounter":
        path = Path(path)
        if path.is_dir() and (path / "tokenizer.json").is_file():
            return cls._from_json(path / "tokenizer.json")
        if path.is_file():
            return cls._from_json(path)
        if path.is_dir():
            return cls._from_transformers(path)
        raise ConfigError(f"tokenizer {path}: no such file or directory; {LOAD_HINT}")

    @classmethod
    def of(cls, tokenizer) -> "TokenCounter":
        """A counter over a tokenizer object: herd's ``lib.llama`` ``Tokenizer`` (its
        ``tokenizers`` model: the counts are its ``encode(text)`` without BOS for text without
        special-token strings, which no generated sample has), a ``tokenizers.Tokenizer``, or a
        ``transformers`` tokenizer."""
        from tokenizers import Tokenizer as FastTokenizer

        from herd.lib.llama.tokenizer import Tokenizer as HerdTokenizer

        if isinstance(tokenizer, TokenCounter):
            return tokenizer
        if isinstance(tokenizer, HerdTokenizer):
            return cls(fast=tokenizer.inner, source=tokenizer.source or "herd tokenizer")
        if isinstance(tokenizer, FastTokenizer):
            return cls(fast=tokenizer, source="tokenizers.Tokenizer")
        try:
            from transformers import PreTrainedTokenizerBase
        except ImportError:
            PreTrainedTokenizerBase = ()
        if PreTrainedTokenizerBase and isinstance(tokenizer, PreTrainedTokenizerBase):
            source = str(tokenizer.name_or_path or type(tokenizer).__name__)
            if tokenizer.is_fast:
                return cls(fast=tokenizer.backend_tokenizer, source=source)
            return cls(slow=tokenizer, source=source)
        raise ConfigError(f"cannot count tokens with a {type(tokenizer).__module__}.{type(tokenizer).__name__}: "
                          "pass herd's lib.llama Tokenizer, a tokenizers.Tokenizer or a transformers tokenizer "
                          f"(or a path; {LOAD_HINT})")

    @classmethod
    def _from_json(cls, path: Path) -> "TokenCounter":
        from tokenizers import Tokenizer

        try:
            return cls(fast=Tokenizer.from_file(str(path)), source=str(path))
        except Exception as exc:  # tokenizers raises a bare Exception on a bad file
            raise ConfigError(f"tokenizer {path} does not load ({exc}); {LOAD_HINT}") from None

    @classmethod
    def _from_transformers(cls, path: Path) -> "TokenCounter":
        try:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError...
            raise ConfigError(f"tokenizer directory {path} does not load ({type(exc).__name__}: {exc}); "
                              f"{LOAD_HINT}") from None
        backend = getattr(tok, "backend_tokenizer", None)
        return cls(fast=backend, source=str(path)) if backend is not None else cls(slow=tok, source=str(path))

    def count(self, text: str) -> int:
        if self.fast is not None:
            return len(self.fast.encode(text, add_special_tokens=False).ids)
        return len(self.slow.encode(text, add_special_tokens=False))

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        if self.fast is not None:
            return [len(e.ids) for e in self.fast.encode_batch(list(texts), add_special_tokens=False)]
        return [self.count(t) for t in texts]

    def token_starts(self, text: str) -> list[int] | None:
        """Character offset where each token of ``text`` starts (to size a haystack that is
        tokenised once); None for a slow tokenizer, which has no offsets."""
        if self.fast is None:
            return None
        return [start for start, _ in self.fast.encode(text, add_special_tokens=False).offsets]
