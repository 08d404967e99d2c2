"""The built-in corpus holds what data/README.md promises, and reads cleanly."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from herd.plugins.curation.config import CurateConfig
from herd.plugins.curation.inputs import resolve_path
from herd.lib.documents import read_kept
from herd.plugins.curation.io import read_dropped


def test_builtin_corpus_reads_with_every_source_and_has_the_promised_content(tmp_path, make_app, run_curation):
    corpus = resolve_path(CurateConfig().inputs[0])
    assert corpus.is_dir()
    assert sum(p.stat().st_size for p in corpus.iterdir()) < 20_000_000
    app = make_app([corpus], [], "curate.workers=2")
    funnel = run_curation(app, tmp_path / "out")
    assert {i["source"] for i in funnel["inputs"]} == {"jsonl", "parquet", "warc"}
    assert funnel["conserved"] and funnel["records_in"] == 1355
    assert sorted(d["reason"] for d in read_dropped(tmp_path / "out" / "dropped")) == [
        "read.empty", "read.invalid_utf8", "read.malformed_json", "read.missing_id"
    ]
    docs = list(read_kept(tmp_path / "out" / "kept"))
    languages = Counter(d.language for d in docs if d.language)
    assert {"de", "fr", "es", "ru", "zh", "ja"} <= set(languages)
    pages = [d for d in docs if d.html]
    assert len(pages) == 241 and all(d.url and d.fetch_time for d in pages)
    paths = Counter(urlsplit(d.url).path for d in pages if "herd-docs" in d.url)
    assert sum(1 for n in paths.values() if n > 1) == 25  # re-crawled URLs
    blocked = ("adult-example.test", "malware-example.test")  # in curation_steps' block list
    assert sum(1 for d in pages if urlsplit(d.url).netloc.endswith(blocked)) == 6
    injected = Counter(d.metadata.get("injected") for d in docs if d.metadata.get("injected"))
    assert injected["near_duplicate"] == 60 and injected["exact_duplicate"] == 30 and injected["pii"] == 20
    assert sum(1 for d in docs if d.id.startswith("math-") and "\\" in d.text) > 50  # LaTeX
    assert sum(1 for d in docs if d.id.startswith("code-")) == 180
