"""Fixtures shared by the training backends' tests (torch and nemo train on the same data)."""

import random
from pathlib import Path

import pytest

WORDS = ("the a llama herd walks over high plain river sun snow bread town library train station book "
         "quiet early morning green blue sky east west").split()


def corpus(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 100))) + "." for _ in range(n)]


@pytest.fixture(scope="session")
def token_data(tmp_path_factory) -> Path:
    """A trained tokenizer and tokenised train / validation / long-context data."""
    from herd.lib.llama.packing import write_token_shards
    from herd.lib.llama.tokenizer import Tokenizer
    from herd.lib.training.niah import niah_documents

    d = tmp_path_factory.mktemp("tokens")
    texts = corpus(300)
    tok = Tokenizer.train(texts, 320)
    tok.save(d / "tok")
    write_token_shards(texts[:280], tok, d / "train")
    write_token_shards(texts[280:], tok, d / "val")
    write_token_shards(texts[:60] + niah_documents(30, 30, 60, tok, 1), tok, d / "long")
    return d
