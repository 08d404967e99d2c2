"""The hostile-input corpus: every kind of bad input the fault campaign of issue 16 tried,
each case with the outcome herd must give it (kept, dropped with a reason, reported).

``python tests/faults/hostile_corpus.py OUT`` writes the corpus under ``OUT/inputs`` and
``OUT/expected.json``; ``tests/faults/test_hostile_input.py`` runs ``cli.py curate`` on it
and checks every case. Texts are made of seeded random words so that no two records are
near-duplicates by accident (the corpus runs through MinHash).
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The curate options every run of the corpus uses (huge = over max_document_chars).
STEPS = "url_dedup,html_text,exact_dedup,minhash_dedup"
MAX_DOCUMENT_CHARS = 2_000_000
KEPT = "kept"


@dataclass(frozen=True)
class Expect:
    """``count`` records of input file ``file`` end as ``outcome`` (``kept`` or a drop
    reason). ``key`` names them: a record id, ``url:<url>`` (WARC ids are random), or
    empty for any record of the file (a truncation has no id). ``at_least``: a lower
    bound, for how many lines survive a cut compressed file."""

    file: str
    key: str
    outcome: str
    count: int = 1
    at_least: bool = False


@dataclass
class Case:
    name: str
    what: str
    expects: list[Expect] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # files funnel.json must list as unread


class _Words:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def text(self, n: int = 60) -> str:
        letters = "abcdefghijklmnopqrstuvwxyz"
        words = ("".join(self.rng.choice(letters) for _ in range(self.rng.randint(3, 9))) for _ in range(n))
        return " ".join(words) + "."


def _jsonl(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def _warc(pages: list[tuple[str, bytes, str]], gz: bool) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gz)
    for url, body, content_type in pages:
        http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                           warc_headers_dict={"WARC-Date": "2024-01-01T00:00:00Z"})
        writer.write_record(record)
    return buffer.getvalue()


def _page(words: _Words) -> str:
    return f"<html><body><article><p>{words.text(80)}</p></article></body></html>"


def build(out: Path) -> list[Case]:
    """Write every case's files under ``out`` and return the cases."""
    out.mkdir(parents=True, exist_ok=True)
    words = _Words(16)
    cases: list[Case] = []

    def case(name: str, what: str, files: dict[str, bytes], *expects: Expect, unread: tuple[str, ...] = ()) -> None:
        for file, data in files.items():
            (out / file).write_bytes(data)
        cases.append(Case(name, what, list(expects), list(unread)))

    # -- issue 16, item 1: stray closing tags hide a 100k-deep tree from a naive count
    repro = "<html><body>" + "<div></span>" * 100_000 + "<p>" + "some words here " * 50 + "</p></body></html>"
    case("html_stray_closing_tags", "100k <div></span>: the parser ignores </span>, the tree is 100k deep",
         {"deep_html.jsonl": _jsonl([{"id": "deep-stray", "html": repro}])},
         Expect("deep_html.jsonl", "deep-stray", "html_text.too_deep"))
    real = "<html><body>" + "<div>" * 20_000 + words.text() + "</div>" * 20_000 + "</body></html>"
    case("html_deep_real", "20k properly nested divs",
         {"deep_real.jsonl": _jsonl([{"id": "deep-real", "html": real}, {"id": "page-ok", "html": _page(words)}])},
         Expect("deep_real.jsonl", "deep-real", "html_text.too_deep"), Expect("deep_real.jsonl", "page-ok", KEPT))
    # -- item 2: charset=utf-7 with a lone surrogate (+2AA-)
    body = f"<html><body><p>{words.text()} +2AA- {words.text()}</p></body></html>".encode("ascii")
    case("warc_utf7_lone_surrogate", "a UTF-7 page decoding to a lone surrogate: kept with U+FFFD",
         {"utf7.warc": _warc([("https://utf7.example/", body, "text/html; charset=utf-7")], gz=False)},
         Expect("utf7.warc", "url:https://utf7.example/", KEPT))
    # -- item 3: metadata JSON nested 100k deep, then good records
    deep = "[" * 100_000 + "]" * 100_000
    good = [{"id": f"after-deep-{i}", "text": words.text()} for i in range(5)]
    nested: dict = {}
    for _ in range(300):
        nested = {"n": nested}
    case("metadata_nested_100k", "metadata holding JSON nested 100k deep; 5 good records follow",
         {"deep_metadata.jsonl": _jsonl([{"id": "deep-meta", "text": words.text(), "metadata": deep},
                                         {"id": "deep-meta-object", "text": words.text(), "metadata": nested},
                                         *good])},
         Expect("deep_metadata.jsonl", "deep-meta", "read.bad_metadata"),
         Expect("deep_metadata.jsonl", "deep-meta-object", "read.bad_metadata"),
         *(Expect("deep_metadata.jsonl", r["id"], KEPT) for r in good))
    # -- item 4: compressions and plain text a library reads; a file nothing reads
    case("jsonl_bz2", "JSON Lines compressed with bzip2",
         {"more.jsonl.bz2": bz2.compress(_jsonl([{"id": "bz2-1", "text": words.text()}]))},
         Expect("more.jsonl.bz2", "bz2-1", KEPT))
    case("jsonl_xz", "JSON Lines compressed with xz",
         {"more.jsonl.xz": lzma.compress(_jsonl([{"id": "xz-1", "text": words.text()}]))},
         Expect("more.jsonl.xz", "xz-1", KEPT))
    case("plain_text", "a .txt file: one document", {"page.txt": words.text().encode()},
         Expect("page.txt", "{inputs}/page.txt", KEPT))
    case("unread_file", "a file no source reads is reported, not skipped silently",
         {"notes.csv": b"a,b\n1,2\n"}, unread=("notes.csv",))
    # -- item 5: records sharing an id are decided one by one
    same = words.text()
    near = words.text(200)
    case("duplicate_ids", "two records with one id and one text; two fetches of a URL with one id; "
         "two near-duplicates with one id",
         {"dup_ids.jsonl": _jsonl([
             {"id": "dup", "text": same}, {"id": "dup", "text": same},
             {"id": "refetch", "url": "https://refetch.example/a", "fetch_time": "2024-01-01T00:00:00Z", "text": words.text()},
             {"id": "refetch", "url": "https://refetch.example/a", "fetch_time": "2024-06-01T00:00:00Z", "text": words.text()},
             {"id": "near", "text": near}, {"id": "near", "text": near + " tail"},
         ])},
         Expect("dup_ids.jsonl", "dup", KEPT), Expect("dup_ids.jsonl", "dup", "exact_dedup.duplicate"),
         Expect("dup_ids.jsonl", "refetch", KEPT), Expect("dup_ids.jsonl", "refetch", "url_dedup.older_fetch"),
         Expect("dup_ids.jsonl", "near", KEPT), Expect("dup_ids.jsonl", "near", "minhash_dedup.near_duplicate"))
    # -- item 6: scores that are not numbers
    case("non_numeric_scores", "scores holding a string, a bool and a list",
         {"scores.jsonl": _jsonl([
             {"id": "score-str", "text": words.text(), "scores": {"q": "high"}},
             {"id": "score-bool", "text": words.text(), "scores": {"q": True}},
             {"id": "score-list", "text": words.text(), "scores": [1, 2]},
             {"id": "score-ok", "text": words.text(), "scores": {"q": 0.5, "n": 3}},
         ])},
         Expect("scores.jsonl", "score-str", "read.bad_scores"), Expect("scores.jsonl", "score-bool", "read.bad_scores"),
         Expect("scores.jsonl", "score-list", "read.bad_scores"), Expect("scores.jsonl", "score-ok", KEPT))
    # -- what passed the campaign already and must keep passing
    lines = [{"id": f"cut-{i}", "text": words.text()} for i in range(40)]
    packed = gzip.compress(_jsonl(lines), mtime=0)
    case("truncated_gzip", "a .jsonl.gz cut at 60%: complete lines kept, the cut reported",
         {"cut.jsonl.gz": packed[: int(len(packed) * 0.6)]},
         Expect("cut.jsonl.gz", "", KEPT, 1, at_least=True), Expect("cut.jsonl.gz", "", "read.truncated"))
    import zstandard

    zlines = [{"id": f"zcut-{i}", "text": words.text()} for i in range(40)]
    zpacked = zstandard.ZstdCompressor().compress(_jsonl(zlines))
    # one zstandard block: cut, none of its lines can be decoded; the cut is reported
    case("truncated_zstd", "a .jsonl.zst cut at 60%",
         {"cut.jsonl.zst": zpacked[: int(len(zpacked) * 0.6)]},
         Expect("cut.jsonl.zst", "", "read.truncated"))
    warc = _warc([(f"https://cut.example/{i}", _page(words).encode(), "text/html; charset=utf-8") for i in range(6)], gz=True)
    case("truncated_warc", "a .warc.gz cut at 80%",
         {"cut.warc.gz": warc[: int(len(warc) * 0.8)]},
         Expect("cut.warc.gz", "url:https://cut.example/0", KEPT), Expect("cut.warc.gz", "", "read.truncated"))
    case("invalid_utf8_and_broken_lines", "invalid UTF-8, broken JSON, a non-object, a missing id",
         {"broken.jsonl": b"".join([
             b'{"id": "bad-utf8", "text": "caf\xff\xfe"}\n', b'{"id": "broken", "text": \n', b'[1, 2]\n',
             b'{"text": "no id here"}\n', _jsonl([{"id": "fine", "text": words.text()}])])},
         Expect("broken.jsonl", "", "read.invalid_utf8"), Expect("broken.jsonl", "", "read.malformed_json"),
         Expect("broken.jsonl", "", "read.not_an_object"), Expect("broken.jsonl", "", "read.missing_id"),
         Expect("broken.jsonl", "fine", KEPT))
    case("nul_bytes", "NUL characters inside a text",
         {"nul.jsonl": _jsonl([{"id": "nul", "text": words.text() + "\u0000\u0000" + words.text()}])},
         Expect("nul.jsonl", "nul", KEPT))
    case("huge_document", f"a record over curate.max_document_chars ({MAX_DOCUMENT_CHARS})",
         {"huge.jsonl": _jsonl([{"id": "huge", "text": "word " * (MAX_DOCUMENT_CHARS // 4)}])},
         Expect("huge.jsonl", "huge", "read.too_large"))
    return cases


def write(out: Path) -> list[Case]:
    cases = build(out / "inputs")
    (out / "expected.json").write_text(json.dumps([asdict(c) for c in cases], indent=2))
    return cases


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    print(f"{len(write(target))} cases under {target}")
