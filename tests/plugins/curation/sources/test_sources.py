"""Each source on real files, good and damaged."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from herd.core.protocols import Malformed
from herd.core.records import Document
from herd.plugins.curation.sources.hf_disk import HFDiskSource
from herd.plugins.curation.sources.jsonl import JsonlSource
from herd.plugins.curation.sources.parquet import ParquetSource
from herd.plugins.curation.sources.warc import WarcSource

GOOD = [
    {"id": "1", "text": "first document", "url": "https://a.example/x", "language": "en", "lang_score": 0.9},
    {"id": 2, "html": "<p>second</p>", "fetch_time": "2024-01-01T00:00:00Z", "metadata": {"k": "v"}},
]


def lines_bytes() -> bytes:
    good = [json.dumps(r).encode() for r in GOOD]
    bad = [
        b"{broken json",
        b'{"id": "u", "text": "caf\xe9 latin-1 byte"}',  # invalid UTF-8
        json.dumps({"text": "no id"}).encode(),
        json.dumps({"id": "empty", "text": "  ", "html": ""}).encode(),
        json.dumps(["not", "an", "object"]).encode(),
        json.dumps({"id": "n", "text": 42}).encode(),
    ]
    return b"\n".join(good[:1] + bad + good[1:] + [b""]) + b"\n"


def split(items):
    docs = [i for i in items if isinstance(i, Document)]
    bad = [i for i in items if isinstance(i, Malformed)]
    return docs, bad


EXPECTED_BAD = ["read.malformed_json", "read.invalid_utf8", "read.missing_id", "read.empty", "read.not_an_object", "read.bad_text"]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_jsonl_keeps_good_lines_and_names_each_bad_one(tmp_path, suffix):
    raw = lines_bytes()
    if suffix.endswith(".gz"):
        raw = gzip.compress(raw)
    elif suffix.endswith(".zst"):
        raw = zstandard.ZstdCompressor().compress(raw)
    path = tmp_path / f"in{suffix}"
    path.write_bytes(raw)
    docs, bad = split(list(JsonlSource().read(path)))
    assert [d.id for d in docs] == ["1", "2"]
    assert docs[0].metadata == {"lang_score": 0.9} and docs[0].language == "en"
    assert docs[1].html == "<p>second</p>" and docs[1].metadata == {"k": "v"} and docs[1].text == ""
    assert [b.reason for b in bad] == EXPECTED_BAD
    assert bad[0].where == f"{path}:2" and bad[1].where == f"{path}:3"
    assert "broken json" in bad[0].raw


@pytest.mark.parametrize("compress", ["gz", "zst"])
def test_truncated_compressed_jsonl_keeps_what_was_read(tmp_path, compress):
    import hashlib

    # incompressible text, so that the compressed file has many blocks to cut between
    records = [{"id": str(i), "text": hashlib.sha256(str(i).encode()).hexdigest() * 8} for i in range(2000)]
    raw = "".join(json.dumps(r) + "\n" for r in records).encode()
    packed = gzip.compress(raw) if compress == "gz" else zstandard.ZstdCompressor().compress(raw)
    path = tmp_path / f"cut.jsonl.{compress}"
    path.write_bytes(packed[: len(packed) // 2])
    docs, bad = split(list(JsonlSource().read(path)))
    assert 0 < len(docs) < 2000
    assert [d.id for d in docs] == [str(i) for i in range(len(docs))]  # everything before the cut
    truncated = [b for b in bad if b.reason == "read.truncated"]
    assert len(truncated) == 1
    assert str(path) in truncated[0].where and "offset" in truncated[0].where
    # the partial last line (if any) is reported, never silently parsed
    assert all(b.reason in ("read.truncated", "read.malformed_json") for b in bad)


def test_parquet_rows_and_a_damaged_file(tmp_path):
    rows = [{"id": "p1", "text": "a parquet row", "url": None}, {"id": None, "text": "no id", "url": None}]
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    docs, bad = split(list(ParquetSource().read(path)))
    assert [d.id for d in docs] == ["p1"] and docs[0].url is None
    assert [b.reason for b in bad] == ["read.missing_id"] and bad[0].where == f"{path}: row 1"
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(path.read_bytes()[:40])
    docs, bad = split(list(ParquetSource().read(broken)))
    assert docs == [] and bad[0].reason == "read.unreadable" and str(broken) in bad[0].where


def test_hf_dataset_saved_to_disk(tmp_path):
    import datasets

    data = datasets.Dataset.from_list([{"id": "h1", "text": "from a dataset"}, {"id": "h2", "text": ""}])
    data.save_to_disk(str(tmp_path / "ds"))
    docs, bad = split(list(HFDiskSource().read(tmp_path / "ds")))
    assert [d.id for d in docs] == ["h1"]
    assert [b.reason for b in bad] == ["read.empty"]


def write_warc(path: Path, pages: list[tuple[str, str, bytes, str]]) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=path.name.endswith(".gz"))
    for url, date, body, content_type in pages:
        http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={"WARC-Date": date}
        )
        writer.write_record(record)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


PAGES = [
    (f"https://site.example/{i}", f"2024-0{i + 1}-01T00:00:00Z", f"<html><body><p>page {i} café</p></body></html>".encode(), "text/html; charset=utf-8")
    for i in range(6)
] + [("https://site.example/logo.png", "2024-01-01T00:00:00Z", b"\x89PNG....", "image/png")]


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc"])
def test_warc_html_responses_become_documents(tmp_path, name):
    path = tmp_path / name
    write_warc(path, PAGES)
    docs, bad = split(list(WarcSource().read(path)))
    assert bad == []
    assert [d.url for d in docs] == [f"https://site.example/{i}" for i in range(6)]  # the PNG is skipped
    assert docs[2].fetch_time == "2024-03-01T00:00:00Z"
    assert "page 2 café" in docs[2].html and docs[2].text == ""
    assert docs[0].id.startswith("urn:uuid:")


@pytest.mark.parametrize("cut", [0.55, 0.8, 0.97])
def test_truncated_warc_keeps_earlier_records_and_names_the_offset(tmp_path, cut):
    path = tmp_path / "cut.warc.gz"
    raw = write_warc(path, PAGES[:6])
    path.write_bytes(raw[: int(len(raw) * cut)])
    docs, bad = split(list(WarcSource().read(path)))
    assert 1 <= len(docs) < 6
    assert [d.url for d in docs] == [f"https://site.example/{i}" for i in range(len(docs))]
    assert [b.reason for b in bad] == ["read.truncated"]
    assert str(path) in bad[0].where and "byte offset" in bad[0].where


def test_warc_with_undeclared_legacy_encoding_is_decoded(tmp_path):
    path = tmp_path / "latin.warc"
    body = "<html><body><p>Ein schöner Tag in München, sagte die Frau.</p></body></html>".encode("cp1252")
    write_warc(path, [("https://de.example/", "2024-01-01T00:00:00Z", body, "text/html")])
    docs, bad = split(list(WarcSource().read(path)))
    assert bad == [] and "München" in docs[0].html


@pytest.mark.parametrize("suffix,pack", [(".jsonl.bz2", "bz2"), (".jsonl.xz", "lzma")])
def test_bzip2_and_xz_json_lines_are_read_and_a_cut_is_reported(tmp_path, suffix, pack):
    import importlib

    module = importlib.import_module(pack)
    raw = b"".join(f'{{"id": "r{i}", "text": "record {i} {"x" * 4000}"}}\n'.encode() for i in range(50))
    path = tmp_path / f"data{suffix}"
    path.write_bytes(module.compress(raw))
    docs, bad = split(list(JsonlSource().read(path)))
    assert [d.id for d in docs] == [f"r{i}" for i in range(50)] and bad == []
    path.write_bytes(module.compress(raw)[:-40])
    docs, bad = split(list(JsonlSource().read(path)))
    assert [b.reason for b in bad] == ["read.truncated"] and len(docs) < 50


def test_one_records_deep_json_drops_that_record_not_the_rest_of_the_file(tmp_path):
    path = tmp_path / "deep.jsonl"
    deep = {"id": "deep", "text": "words", "metadata": "[" * 100_000 + "]" * 100_000}
    path.write_text("\n".join(json.dumps(r) for r in [deep] + [{"id": f"g{i}", "text": "good"} for i in range(5)]))
    docs, bad = split(list(JsonlSource().read(path)))
    assert [d.id for d in docs] == [f"g{i}" for i in range(5)]
    assert [(b.reason, b.id) for b in bad] == [("read.bad_metadata", "deep")]


@pytest.mark.parametrize("scores,ok", [
    ({"q": 0.5, "n": 3}, True), ({"q": "high"}, False), ({"q": True}, False), ({"q": None}, False),
    ({"q": 10**400}, False), ([["q", 0.25]], True), ("0.5", False),
])
def test_scores_must_be_finite_numbers(scores, ok):
    from herd.plugins.curation.sources.records import to_document

    result = to_document({"id": "s", "text": "t", "scores": scores}, "here")
    if ok:
        assert isinstance(result, Document) and all(isinstance(v, float) for v in result.scores.values())
    else:
        assert isinstance(result, Malformed) and result.reason == "read.bad_scores" and "here" == result.where


def test_text_files_are_one_document_per_file_or_per_line(tmp_path):
    from herd.plugins.curation.sources.text import TextSource, TextSourceConfig

    path = tmp_path / "notes.txt"
    path.write_bytes(b"first line of words\n\nsecond line\n\xff broken line\n")
    docs, bad = split(list(TextSource().read(path)))
    assert bad and bad[0].reason == "read.invalid_utf8"  # the whole file is one document: not UTF-8
    docs, bad = split(list(TextSource(TextSourceConfig(unit="line")).read(path)))
    assert [(d.id, d.text) for d in docs] == [(f"{path}:1", "first line of words"), (f"{path}:3", "second line")]
    assert [(b.reason, b.where) for b in bad] == [("read.invalid_utf8", f"{path}:4")]


def test_a_utf7_page_with_a_lone_surrogate_is_kept_with_a_replacement(tmp_path):
    path = tmp_path / "utf7.warc"
    write_warc(path, [("https://u.example/", "2024-01-01T00:00:00Z", b"<html><body>a +2AA- b</body></html>",
                       "text/html; charset=utf-7")])
    docs, bad = split(list(WarcSource().read(path)))
    assert bad == [] and "a \ufffd b" in docs[0].html
