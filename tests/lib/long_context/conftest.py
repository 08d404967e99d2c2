"""Fixtures of the long-context tests: a real tokenizer (``answers.train_tokenizer``) and its
token counter."""

from pathlib import Path

import pytest

from herd.lib.long_context.token_counter import TokenCounter
from tests.lib.long_context.answers import train_tokenizer


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    return train_tokenizer(tmp_path_factory.mktemp("long_context_tok"))


@pytest.fixture(scope="session")
def counter(tokenizer_dir) -> TokenCounter:
    return TokenCounter.load(tokenizer_dir)
