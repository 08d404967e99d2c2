"""Reading corpora from disk: the curate stage's kept/ folders as full documents, and plain
text documents (JSON Lines or blank-line separated text)."""

from __future__ import annotations

import gzip
import json

import pytest

from herd.core.errors import InputError
from herd.core.records import Document
from herd.lib.documents import read_documents, read_kept
from herd.plugins.curation.io import KeptWriter


def _kept(tmp_path, fmt: str) -> list[Document]:
    docs = [Document(id=f"d{i}", text=f"text {i}", domain="math_reasoning", language="en",
                     metadata={"n": i}, scores={"quality": 0.5 + i / 10}) for i in range(3)]
    folder = tmp_path / fmt
    folder.mkdir()
    for shard, part in (("00001", docs[2:]), ("00000", docs[:2])):
        writer = KeptWriter(folder, shard, fmt)
        for doc in part:
            writer.write(doc)
        writer.commit()
    return docs


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_read_kept_gives_back_what_the_curate_stage_wrote_in_file_name_order(tmp_path, fmt):
    docs = _kept(tmp_path, fmt)
    assert list(read_kept(tmp_path / fmt)) == docs


def test_a_kept_line_that_is_not_a_document_names_file_and_line(tmp_path):
    folder = tmp_path / "kept"
    folder.mkdir()
    with gzip.open(folder / "part-00000.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "a", "text": "fine"}) + "\n" + '{"id": "b", "txet": 1}\n')
    with pytest.raises(InputError, match=r"part-00000.jsonl.gz:2: not a curated document"):
        list(read_kept(folder))
    with pytest.raises(InputError, match=r"no such folder of curated documents"):
        list(read_kept(tmp_path / "missing"))


def test_read_documents_splits_text_at_blank_lines_and_reads_jsonl_records(tmp_path):
    (tmp_path / "notes.txt").write_text("first\nparagraph\n\n\nsecond\n")
    assert [d.text for d in read_documents(tmp_path / "notes.txt", "test")] == ["first\nparagraph", "second"]
    (tmp_path / "docs.jsonl").write_text('{"id": "x", "text": " a "}\n{"text": ""}\nnot json\n')
    with pytest.raises(InputError, match=r"docs.jsonl:3 is not JSON"):
        list(read_documents(tmp_path / "docs.jsonl", "test"))
