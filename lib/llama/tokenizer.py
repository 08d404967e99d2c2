"""Byte-level BPE tokenizer with Llama 3's pre-tokenizer and special tokens.

``Tokenizer.train`` learns a vocabulary on a corpus with Hugging Face ``tokenizers``;
``Tokenizer.load`` reads a herd/Hugging Face ``tokenizer.json`` (file or directory) or a
tiktoken-style rank file (Llama 3's ``tokenizer.model``: ``base64(token) rank`` lines).
The chat special tokens are Llama 3's (docs/recipe.md section 5, chat format); conversations are
rendered by ``herd.lib.chat.format`` only, and ``save_hf`` ships that format as the
tokenizer's chat template.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from herd.core.errors import InputError
from herd.lib.chat.format import BEGIN_OF_TEXT, END_HEADER, END_OF_TEXT, EOM, EOT, PYTHON_TAG, START_HEADER

# Llama 3's split pattern (tiktoken cl100k-style, digits in groups of up to three).
SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

PAD = "<|finetune_right_pad_id|>"
SPECIAL_TOKENS = (BEGIN_OF_TEXT, END_OF_TEXT, START_HEADER, END_HEADER, EOT, EOM, PYTHON_TAG, PAD)


@dataclass(frozen=True)
class SpecialIds:
    bos: int
    eos: int
    start_header: int
    end_header: int
    eot: int
    eom: int
    python_tag: int
    pad: int


def _byte_level_pieces():
    from tokenizers import Regex, decoders, pre_tokenizers

    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    return pre, decoders.ByteLevel()


class Tokenizer:
    """A thin wrapper of ``tokenizers.Tokenizer`` that knows Llama 3's special tokens."""

    def __init__(self, inner, source: str = ""):
        self.inner = inner
        self.source = source
        missing = [t for t in SPECIAL_TOKENS if inner.token_to_id(t) is None]
        if missing:
            inner.add_special_tokens(missing)
        ids = [inner.token_to_id(t) for t in SPECIAL_TOKENS]
        self.special = SpecialIds(*ids)

    # --- building ---------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> "Tokenizer":
        from tokenizers import Tokenizer as HFTokenizer, models, pre_tokenizers, trainers

        if vocab_size < 256 + len(SPECIAL_TOKENS) + 1:
            raise ValueError(f"tokenizer vocab_size {vocab_size} is too small: byte-level BPE needs > "
                             f"{256 + len(SPECIAL_TOKENS)} (256 bytes + special tokens)")
        inner = HFTokenizer(models.BPE())
        inner.pre_tokenizer, inner.decoder = _byte_level_pieces()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        inner.train_from_iterator(texts, trainer=trainer)
        return cls(inner, source="trained")

    @classmethod
    def load(cls, path: Path | str) -> "Tokenizer":
        """A ``tokenizer.json`` (or a directory holding one), or a tiktoken rank file."""
        from tokenizers import Tokenizer as HFTokenizer

        path = Path(path)
        if path.is_dir():
            for name in ("tokenizer.json", "tokenizer.model"):
                if (path / name).is_file():
                    return cls.load(path / name)
            raise InputError(f"{path}: no tokenizer.json or tokenizer.model in this directory")
        if not path.is_file():
            raise InputError(f"{path}: tokenizer file not found")
        head = path.read_bytes()[:1].lstrip()
        if head == b"{":
            try:
                return cls(HFTokenizer.from_file(str(path)), source=str(path))
            except Exception as err:  # tokenizers raises a bare Exception on bad JSON
                raise InputError(f"{path}: not a valid tokenizer.json ({err})") from None
        return cls(_from_tiktoken(path), source=str(path))

    def save(self, directory: Path | str) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.inner.save(str(directory / "tokenizer.json"))
        return directory / "tokenizer.json"

    def save_hf(self, directory: Path | str) -> None:
        """``tokenizer.json`` plus the config files ``transformers.AutoTokenizer`` reads, with
        Llama 3.1's chat template and BOS handling: ``tokenizer(text)`` starts with
        ``<|begin_of_text|>`` (a post-processor, as Meta's ``tokenizer.json`` has), and
        ``apply_chat_template`` renders what ``herd.lib.chat.format`` encodes (the template
        writes the BOS itself; transformers tokenizes it without adding another)."""
        from tokenizers import Tokenizer as HFTokenizer, processors

        from herd.lib.chat.template import CHAT_TEMPLATE

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        exported = HFTokenizer.from_str(self.inner.to_str())  # a copy: herd never adds BOS implicitly
        bos = self.special.bos
        exported.post_processor = processors.TemplateProcessing(
            single=f"{BEGIN_OF_TEXT} $A", pair=f"{BEGIN_OF_TEXT} $A {BEGIN_OF_TEXT} $B:1",
            special_tokens=[(BEGIN_OF_TEXT, bos)],
        )
        exported.save(str(directory / "tokenizer.json"))
        config = {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": BEGIN_OF_TEXT,
            "eos_token": EOT,
            "pad_token": PAD,
            "add_bos_token": True,
            "add_eos_token": False,
            "model_max_length": 1 << 30,
            "clean_up_tokenization_spaces": False,
            "chat_template": CHAT_TEMPLATE,
        }
        (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
        specials = {"bos_token": BEGIN_OF_TEXT, "eos_token": EOT, "pad_token": PAD}
        (directory / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n")

    # --- use --------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self.inner.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str, bos: bool = False, eos: bool = False, allow_special: bool = False) -> list[int]:
        """Token ids of ``text``. Special-token strings inside ``text`` are plain text unless
        ``allow_special`` (chat templates set it; raw documents must not)."""
        if allow_special:
            ids = self.inner.encode(text, add_special_tokens=False).ids
        else:
            ids = self._encode_plain(text)
        return ([self.special.bos] if bos else []) + ids + ([self.special.eos] if eos else [])

    def _encode_plain(self, text: str) -> list[int]:
        # tokenizers always matches added tokens; split them out and encode as bytes.
        if "<|" not in text:
            return self.inner.encode(text, add_special_tokens=False).ids
        ids: list[int] = []
        for piece in _split_keep(text, SPECIAL_TOKENS):
            if piece in SPECIAL_TOKENS:
                ids.extend(self.inner.encode(piece[:2], add_special_tokens=False).ids)
                ids.extend(self.inner.encode(piece[2:], add_special_tokens=False).ids)
            elif piece:
                ids.extend(self.inner.encode(piece, add_special_tokens=False).ids)
        return ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        if any("<|" in t for t in texts):
            return [self._encode_plain(t) for t in texts]
        return [e.ids for e in self.inner.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids: Sequence[int], skip_special: bool = False) -> str:
        return self.inner.decode(list(ids), skip_special_tokens=skip_special)

    def token(self, token_id: int) -> str:
        return self.inner.id_to_token(token_id)


def _split_keep(text: str, tokens: Sequence[str]) -> list[str]:
    import re

    return re.split("(" + "|".join(re.escape(t) for t in tokens) + ")", text)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map used by byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def _from_tiktoken(path: Path):
    """Build a BPE from tiktoken ranks: a token's merge is the pair that BPE with only the
    lower-ranked tokens leaves it as (the conversion ``transformers`` uses for Llama 3)."""
    from tokenizers import Tokenizer as HFTokenizer, models

    ranks: dict[bytes, int] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            token_b64, rank = line.split()
            ranks[base64.b64decode(token_b64)] = int(rank)
        except ValueError:
            raise InputError(f"{path}:{lineno}: expected 'base64-token rank', got {line[:60]!r}") from None
    byte_map = _bytes_to_unicode()

    def as_str(b: bytes) -> str:
        return "".join(byte_map[x] for x in b)

    vocab = {as_str(tok): rank for tok, rank in ranks.items()}
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) == 1:
            continue
        parts = _bpe_parts(ranks, token, rank)
        if len(parts) != 2:
            raise InputError(f"{path}: token of rank {rank} cannot be derived from two lower-ranked tokens")
        merges.append((as_str(parts[0]), as_str(parts[1])))
    inner = HFTokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    inner.pre_tokenizer, inner.decoder = _byte_level_pieces()
    return inner


def _bpe_parts(ranks: dict[bytes, int], token: bytes, max_rank: int) -> list[bytes]:
    parts = [bytes([b]) for b in token]
    while True:
        best, best_rank = None, None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < max_rank and (best_rank is None or r < best_rank):
                best, best_rank = i, r
        if best is None:
            return parts
        parts = parts[:best] + [parts[best] + parts[best + 1]] + parts[best + 2:]
