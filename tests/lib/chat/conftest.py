"""A real byte-level BPE tokenizer with merges (herd's, trained here) exported the way
``herd export-hf`` writes it, loaded back with ``transformers.AutoTokenizer``."""

from __future__ import annotations

import pytest

CORPUS = [
    "The weather in Menlo Park is sunny today. What is the weather like? It is 21 degrees.",
    "brave_search.call(query=\"weather\") wolfram_alpha print(sum(range(10))) {\"name\": \"get_time\"}",
    "Hello there! How can I help you? I can search the web, run code and call your tools.",
    "Paragraphs end in blank lines.\n\nSome in two.\n\n\nOr\n\n\nthree.\n\n\nLists:\n- one\n- two\n",
] * 20


@pytest.fixture(scope="session")
def herd_tokenizer():
    from herd.lib.llama.tokenizer import Tokenizer

    return Tokenizer.train(CORPUS, vocab_size=420)


@pytest.fixture(scope="session")
def exported_dir(herd_tokenizer, tmp_path_factory):
    directory = tmp_path_factory.mktemp("exported_tokenizer")
    herd_tokenizer.save_hf(directory)
    return directory


@pytest.fixture(scope="session")
def tokenizer(exported_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(exported_dir))


@pytest.fixture(scope="session")
def chat(tokenizer):
    from herd.lib.chat.format import ChatFormat

    return ChatFormat.from_tokenizer(tokenizer)
