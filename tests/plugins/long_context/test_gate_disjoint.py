"""The long_context synthesizer's SFT rows never hold what the NIAH gate (lib.training.niah,
docs/recipe.md 4.2) or the long_context evaluator ask: no gate needle, key or value, no
RULER haystack (the noise line, the essays), no RULER question (issue 18, a clean gate)."""

import gzip
import json

import pytest

from herd.lib.llama.tokenizer import Tokenizer
from herd.lib.long_context.haystack import essay_text
from herd.lib.long_context.tasks import NOISE
from herd.lib.training.niah import gate_cases, gate_min_length
from herd.plugins.long_context.documents import FALLBACK
from herd.plugins.long_context.sft_config import LongContextSFTConfig
from herd.plugins.long_context.synthesis import LongContextSynthesizer
from tests.plugins.conftest import corpus


def synthesized(tokenizer_dir, work, **settings) -> list[str]:
    cfg = LongContextSFTConfig(tokenizer=str(tokenizer_dir), lengths=[512, 1024], min_rows=9, **settings)
    return [m.content for row in LongContextSynthesizer(cfg).synthesize(100, work) for m in row.messages]


@pytest.fixture(scope="module")
def gate_items(tokenizer_dir) -> list[str]:
    tok = Tokenizer.load(tokenizer_dir)
    low = gate_min_length(tok)
    items = []
    for length in (low, 2 * low):
        for seed in range(10):  # the trainers' seeds: the job's seed plus the step
            for case in gate_cases(tok, length, 4, seed):
                items += [case.needle, case.key, case.value]
    return items


def sentences(text: str) -> str:
    """The corpus's words as sentences of eight words (the synthesizer cuts at sentences)."""
    words = text.rstrip(".").split()
    return " ".join(" ".join(words[i:i + 8]).capitalize() + "." for i in range(0, len(words), 8))


def essay_sentences() -> list[str]:
    return [s.strip() + "." for s in essay_text().split(". ") if len(s) > 40]


@pytest.mark.parametrize("source", ["fallback", "curated"])
def test_synthesizer_rows_hold_no_gate_item_and_no_ruler_haystack(source, tokenizer_dir, gate_items, tmp_path):
    settings = {}
    if source == "curated":
        path = tmp_path / "kept.jsonl.gz"
        with gzip.open(path, "wt") as handle:
            for i, text in enumerate(corpus(200, seed=3)):
                handle.write(json.dumps({"id": str(i), "text": sentences(text)}) + "\n")
        settings["documents"] = [str(path)]
    texts = synthesized(tokenizer_dir, tmp_path / "work", **settings)
    assert len(texts) >= 12
    summary = json.loads((tmp_path / "work" / "long_context.json").read_text())
    assert summary["kept_by_kind"].keys() == {"chunk_qa", "summary", "repo"}
    for text in texts:
        assert not any(item in text for item in gate_items)
        assert "special magic" not in text and NOISE not in text and "The grass is green." not in text
        assert not any(sentence in text for sentence in essay_sentences())


def test_the_fallback_documents_are_not_the_essays(tokenizer_dir, tmp_path):
    cfg = LongContextSFTConfig(tokenizer=str(tokenizer_dir), kinds=["chunk_qa"], lengths=[1024], min_rows=2)
    rows = list(LongContextSynthesizer(cfg).synthesize(10, tmp_path))
    assert rows and all(r.metadata["documents"] == FALLBACK for r in rows)


def test_the_long_documents_hold_no_gate_item_and_no_ruler_haystack(gate_items):
    """The long_documents stage's repository code is long-context training data too."""
    from herd.plugins.long_context.long_documents_config import LongDocumentsConfig
    from herd.plugins.long_context.repo_documents import repo_documents

    texts = [d.text for package in LongDocumentsConfig().packages for d in repo_documents(package, 20_000)]
    assert len(texts) > 100
    for text in texts:
        assert not any(item in text for item in gate_items)
        assert "special magic" not in text and NOISE not in text and "The grass is green." not in text
