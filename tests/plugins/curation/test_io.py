"""The runner's writers never crash on what a source let through: lone surrogates and
integers over 64 bits are written (replaced), so a bad record cannot take a run down."""

from __future__ import annotations

from herd.core.records import Document, DroppedRecord
from herd.lib.documents import read_kept
from herd.plugins.curation.io import DroppedWriter, KeptWriter, read_dropped


def test_the_dropped_writer_writes_surrogates_as_replacement_characters(tmp_path):
    writer = DroppedWriter(tmp_path / "dropped" / "p0-00000.jsonl.gz", text_chars=100)
    writer.write(DroppedRecord(id="u\ud800", stage="curate", step="read", reason="read.x", text="a \udfff b"))
    writer.commit()
    (record,) = read_dropped(tmp_path / "dropped")
    assert record["id"] == "u\ufffd" and record["text"] == "a \ufffd b"


def test_kept_documents_with_unwritable_values_are_written(tmp_path):
    writer = KeptWriter(tmp_path / "kept", "00000", "jsonl")
    writer.write(Document(id="k", text="t \ud83d", metadata={"big": 2**70}))
    writer.commit()
    (doc,) = read_kept(tmp_path / "kept")
    assert doc.text == "t \ufffd" and doc.metadata == {"big": str(2**70)}
