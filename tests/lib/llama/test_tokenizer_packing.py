import base64
import gzip
import json

import numpy as np
import pytest

from herd.core.errors import InputError
from herd.lib.llama.packing import PackedBatches, TokenStream, read_texts, write_token_shards
from herd.lib.llama.tokenizer import EOT, Tokenizer

TEXTS = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "def add(a, b):\n    return a + b\n",
    "Llamas live in the Andes; 1234567 of them, or so the story goes.",
    "Grüße aus Zürich! Ça va très bien, merci.",
] * 20


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(TEXTS, vocab_size=400)


def test_trained_tokenizer_round_trips_and_has_llama3_specials(tok, tmp_path):
    assert 300 < tok.vocab_size <= 400  # a small corpus may run out of merges first
    for text in set(TEXTS):
        assert tok.decode(tok.encode(text)) == text
    assert len({tok.special.bos, tok.special.eos, tok.special.eot, tok.special.start_header,
                tok.special.end_header, tok.special.python_tag}) == 6
    tok.save(tmp_path)
    again = Tokenizer.load(tmp_path)
    assert again.encode(TEXTS[1]) == tok.encode(TEXTS[1])


def test_special_strings_in_documents_stay_text(tok):
    ids = tok.encode(f"a {EOT} b")
    assert tok.special.eot not in ids
    assert tok.decode(ids) == f"a {EOT} b"
    # Chat is rendered by herd.lib.chat alone; its text form reads back as the same tokens.
    from herd.core.records import ChatMessage
    from herd.lib.chat.format import ChatFormat, render_text

    messages = [ChatMessage("user", "hi")]
    chat = ChatFormat.from_tokenizer(tok).encode_prompt(messages).ids
    assert chat[0] == tok.special.bos and tok.special.eot in chat
    assert tok.decode(chat[-3:]).endswith('<|end_header_id|>\n\n')
    assert chat.count(tok.special.start_header) == 2
    assert tok.encode(render_text(messages), allow_special=True) == chat


def test_tiktoken_rank_file_loads(tmp_path):
    ranks = [bytes([b]) for b in range(256)] + [b"ab", b"abc", b" the"[:2], b" t" + b"h"]
    lines = [f"{base64.b64encode(t).decode()} {i}" for i, t in enumerate(ranks)]
    path = tmp_path / "tokenizer.model"
    path.write_text("\n".join(lines) + "\n")
    tok = Tokenizer.load(path)
    ids = tok.encode("abc abd")
    assert ids[0] == 257  # "abc" as one token
    assert tok.decode(ids) == "abc abd"


def test_bad_tiktoken_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.model"
    path.write_text("YQ== 0\nnot-a-rank-line\n")
    with pytest.raises(InputError, match=r"bad.model:2"):
        Tokenizer.load(path)


def test_shards_stream_and_packed_batches(tok, tmp_path):
    meta = write_token_shards(TEXTS[:8], tok, tmp_path, shard_tokens=60)
    assert len(meta["shards"]) > 1 and meta["docs"] == 8 and meta["dtype"] == "uint16"
    stream = TokenStream(tmp_path)
    assert stream.n_docs == 8
    expected = np.concatenate([[tok.special.bos, *tok.encode(t), tok.special.eos] for t in TEXTS[:8]])
    assert np.array_equal(np.asarray(stream.tokens), expected)
    loader = PackedBatches(stream)
    b = loader.next(2, 16)
    assert b.tokens.shape == (2, 16)
    # labels are the next token except where the next token starts another document
    flat_t, flat_l, flat_d = b.tokens.flatten(), b.labels.flatten(), b.doc_ids.flatten()
    for i in range(len(flat_t) - 1):
        if flat_d[i + 1] == flat_d[i]:
            assert flat_l[i] == flat_t[i + 1]
        else:
            assert flat_l[i] == -100
    assert loader.position.offset == 32
    for _ in range(100):
        loader.next(2, 16)
    assert loader.position.epoch >= 1


def test_read_texts_reports_bad_records(tmp_path):
    path = tmp_path / "mix.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write(json.dumps({"text": "ok"}) + "\n" + json.dumps({"txt": "no"}) + "\n")
    with pytest.raises(InputError, match=r"mix.jsonl.gz:2: record has no string 'text'"):
        list(read_texts(path))
