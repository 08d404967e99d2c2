import random

import numpy as np

from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import LineDedupConfig, MinHashConfig
from herd.plugins.curation_steps.dedup.exact import ExactDedup
from herd.plugins.curation_steps.dedup.lines import LineDedup
from herd.plugins.curation_steps.dedup.minhash import MinHashDedup
from herd.plugins.curation_steps.dedup.url import URLDedup, fetch_timestamp, normalize_url
from herd.plugins.curation_steps.text import id_hash


def run_corpus_step(step, docs, workdir):
    for doc in docs:
        step.observe(doc)
    step.finalize(workdir)
    return {doc.id: step.apply(doc) for doc in docs}


def edit(text: str, fraction: float, seed: int) -> str:
    """Replace a fraction of the words (at least one): a controlled near-duplicate."""
    rng = random.Random(seed)
    words = text.split()
    for i in rng.sample(range(len(words)), max(1, int(len(words) * fraction))):
        words[i] = rng.choice(["alpha", "bravo", "charlie", "delta", "echo"])
    return " ".join(words)


def test_normalize_url():
    assert normalize_url("HTTPS://www.Example.com:443/a/b/?utm_source=x&b=2&a=1#top") == "//example.com/a/b?a=1&b=2"
    assert normalize_url("http://example.com/a/b") == normalize_url("https://example.com/a/b/")
    assert normalize_url("http://example.com:8080/") != normalize_url("http://example.com/")
    assert fetch_timestamp("2024-03-01T10:00:00Z") > fetch_timestamp("2023-12-31T23:59:59+00:00")
    assert fetch_timestamp(None) == float("-inf") and fetch_timestamp("yesterday") == float("-inf")


def test_url_dedup_keeps_the_most_recent_fetch(tmp_path, paragraphs):
    docs = [
        Document(id="old", text=paragraphs[0], url="http://example.com/news/1", fetch_time="2023-01-05T00:00:00Z"),
        Document(id="new", text=paragraphs[1], url="https://www.example.com/news/1/", fetch_time="2024-02-01T00:00:00Z"),
        Document(id="undated", text=paragraphs[2], url="https://example.com/news/1"),
        Document(id="other", text=paragraphs[3], url="https://example.com/news/2", fetch_time="2020-01-01"),
        Document(id="nourl", text=paragraphs[4]),
    ]
    out = run_corpus_step(URLDedup(), docs, tmp_path)
    assert [k for k, v in out.items() if isinstance(v, Drop)] == ["old", "undated"]
    assert out["old"].reason == "url_dedup.older_fetch"
    assert (tmp_path / "url_dedup" / "drop_ids.npy").exists()


def test_exact_dedup_is_independent_of_order(tmp_path, paragraphs):
    docs = [Document(id=f"d{i}", text=p) for i, p in enumerate(paragraphs)]
    docs += [Document(id="copy-a", text=paragraphs[0] + "\n"), Document(id="copy-b", text="  " + paragraphs[0])]
    first = run_corpus_step(ExactDedup(), docs, tmp_path / "1")
    second = run_corpus_step(ExactDedup(), list(reversed(docs)), tmp_path / "2")
    dropped = sorted(k for k, v in first.items() if isinstance(v, Drop))
    assert len(dropped) == 2 and all(k in ("d0", "copy-a", "copy-b") for k in dropped)
    assert dropped == sorted(k for k, v in second.items() if isinstance(v, Drop))


def test_minhash_finds_near_duplicates_and_not_distinct_documents(tmp_path, paragraphs):
    docs = [Document(id=f"orig{i}", text=p) for i, p in enumerate(paragraphs)]
    docs += [Document(id=f"near{i}", text=edit(p, 0.01, i)) for i, p in enumerate(paragraphs[:4])]
    docs.append(Document(id="far", text=edit(paragraphs[5], 0.5, 9)))  # half the words changed
    step = MinHashDedup()
    out = run_corpus_step(step, docs, tmp_path)
    dropped = {k for k, v in out.items() if isinstance(v, Drop)}
    # one of each near-duplicate pair goes, every distinct document stays
    assert len(dropped) == 4
    for i in range(4):
        assert len(dropped & {f"orig{i}", f"near{i}"}) == 1
    assert not dropped & {"orig4", "orig5", "orig6", "orig7", "far"}
    assert step.stats["clusters"] == 4
    clusters = np.load(tmp_path / "minhash_dedup" / "clusters.npy")
    assert len(clusters) == 8


def test_minhash_survivor_does_not_depend_on_order(tmp_path, paragraphs):
    docs = [Document(id=f"v{i}", text=edit(paragraphs[1], 0.01, i)) for i in range(5)]
    a = run_corpus_step(MinHashDedup(), docs, tmp_path / "a")
    b = run_corpus_step(MinHashDedup(MinHashConfig()), list(reversed(docs)), tmp_path / "b")
    kept_a = [k for k, v in a.items() if not isinstance(v, Drop)]
    kept_b = [k for k, v in b.items() if not isinstance(v, Drop)]
    assert len(kept_a) == 1 and kept_a == kept_b


def test_minhash_spills_to_disk_and_cleans_up(tmp_path, paragraphs):
    step = MinHashDedup(MinHashConfig(spill_dir=str(tmp_path / "spill")))
    n = 4200  # more than one in-memory batch of 4096 signatures
    for i in range(n):
        step.observe(Document(id=str(i), text=paragraphs[i % 8]))
    assert any((tmp_path / "spill").iterdir())
    step.finalize(tmp_path / "work")
    assert not any((tmp_path / "spill").iterdir())
    assert step.stats["documents"] == n and step.stats["dropped"] == n - 8


def test_line_dedup_threshold(tmp_path, paragraphs):
    menu = "Home | News | Sport | Weather | Contact"
    cookie = "We use cookies to improve your experience."
    docs = []
    for i in range(8):
        lines = [menu, paragraphs[i]]
        if i < 6:
            lines.append(cookie)  # in exactly 6 documents: not more than 6, kept
        docs.append(Document(id=f"p{i}", text="\n".join(lines)))
    docs.append(Document(id="only-menu", text=menu))
    out = run_corpus_step(LineDedup(LineDedupConfig(max_occurrences=6)), docs, tmp_path)
    assert out["only-menu"].reason == "line_dedup.all_lines_duplicated"
    for i in range(8):
        kept = out[f"p{i}"]
        assert menu not in kept.text and paragraphs[i] in kept.text
        assert (cookie in kept.text) == (i < 6)
        assert kept.metadata["line_dedup.removed_lines"] == 1


def test_line_dedup_counts_within_buckets(tmp_path, paragraphs):
    # 40 documents share a line; in buckets of 4 documents no bucket has it more than 6 times
    docs = [Document(id=f"d{i}", text=f"Subscribe to our newsletter\n{paragraphs[i % 8]} ({i})") for i in range(40)]
    step = LineDedup(LineDedupConfig(bucket_size=4))
    small = run_corpus_step(step, docs, tmp_path / "small")
    assert all("Subscribe" in d.text for d in small.values())
    assert sorted(np.bincount(step.bucket([id_hash(d.id) for d in docs]))) == [4] * 10
    one = run_corpus_step(LineDedup(LineDedupConfig(bucket_size=1000)), docs, tmp_path / "one")
    assert all("Subscribe" not in d.text for d in one.values())


def test_hashes_are_the_same_in_every_process(paragraphs):
    """Shards are observed in other processes: shingle and id hashes must not be salted."""
    import subprocess
    import sys

    from herd.plugins.curation_steps.text import shingle_hashes

    code = ("import sys; from herd.plugins.curation_steps.text import shingle_hashes, id_hash; "
            "print(list(shingle_hashes(sys.argv[1], 5)[:5]), id_hash('doc-1'))")
    out = subprocess.run([sys.executable, "-c", code, paragraphs[0]], capture_output=True, text=True,
                         env={"PYTHONHASHSEED": "123", "PATH": ""}, check=True).stdout
    assert out.strip() == f"{list(shingle_hashes(paragraphs[0], 5)[:5])} {id_hash('doc-1')}"



def test_parallel_sketches_decide_exactly_as_sequential_observe(tmp_path, paragraphs):
    """Every built-in corpus step can be observed from sketches computed in another process
    with another hash salt (the runner's parallel observe): same drops, same text changes,
    same state files as ``observe``."""
    import pickle
    import subprocess
    import sys

    from herd.plugins.curation_steps.configs import TokenKLConfig
    from herd.plugins.curation_steps.token_kl import TokenKL

    menu = "Home | News | Sport | Weather | Contact"
    docs = [Document(id=f"o{i}", text=f"{menu}\n{p}", url=f"https://example.com/{i % 5}", fetch_time=f"202{i % 4}-01-01")
            for i, p in enumerate(paragraphs)]
    docs += [Document(id=f"n{i}", text=f"{menu}\n" + edit(p, 0.01, i)) for i, p in enumerate(paragraphs[:4])]
    docs += [Document(id="copy", text=docs[0].text), Document(id="odd", text="zebra " * 80)]
    makers = [URLDedup, ExactDedup, MinHashDedup, lambda: LineDedup(LineDedupConfig(max_occurrences=3)),
              lambda: TokenKL(TokenKLConfig(percentile=90.0, min_tokens=10))]
    (tmp_path / "steps.pkl").write_bytes(pickle.dumps(([make() for make in makers], docs)))
    code = ("import pickle, sys; steps, docs = pickle.load(open(sys.argv[1], 'rb')); "
            "pickle.dump([[s.sketch(d) for d in docs] for s in steps], open(sys.argv[2], 'wb'))")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "steps.pkl"), str(tmp_path / "sketches.pkl")],
                   env={"PYTHONHASHSEED": "99", "PATH": ""}, check=True)
    sketches = pickle.loads((tmp_path / "sketches.pkl").read_bytes())
    for k, make in enumerate(makers):
        sequential = run_corpus_step(make(), [Document(**d.to_dict()) for d in docs], tmp_path / f"s{k}")
        step = make()
        for doc, sketch in zip(docs, sketches[k]):
            step.observe_sketch(doc.id, sketch)
        step.finalize(tmp_path / f"p{k}")
        parallel = {d.id: step.apply(Document(**d.to_dict())) for d in docs}
        assert {i: repr(r) for i, r in parallel.items()} == {i: repr(r) for i, r in sequential.items()}, step.name
        assert any(isinstance(r, Drop) for r in parallel.values()) or step.name == "line_dedup", step.name
        for saved in (tmp_path / f"s{k}").rglob("*.npy"):
            assert np.array_equal(np.load(saved), np.load(tmp_path / f"p{k}" / saved.relative_to(tmp_path / f"s{k}")))
