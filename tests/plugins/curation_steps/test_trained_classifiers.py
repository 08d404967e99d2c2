"""The domain and quality classifiers trained in the run (issue 15 item 7): trained on the
built-in corpus's labelled documents, measured on a held-out split, and checked on text
they never saw — installed packages' READMEs and licences (not maths) and mpmath's maths
docstrings (maths)."""

from __future__ import annotations

import gzip
import importlib.metadata
import inspect
import json
import pickle
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from herd.core.classifier_eval import FALLBACK, TRAINED, read_classifier_eval
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import QualityClassifierConfig
from herd.plugins.curation_steps.domain import DomainClassifier
from herd.plugins.curation_steps.quality import QualityClassifier

CORPUS = Path(__file__).resolve().parents[3] / "data" / "corpus"


def _corpus() -> list[Document]:
    """The built-in corpus's English documents with a known source (man pages, docstrings,
    copyright files, maths docstrings, source code)."""
    docs = []
    for name in ("text.jsonl.gz", "math.jsonl.gz"):
        with gzip.open(CORPUS / name, "rt", encoding="utf-8") as fh:
            docs += [Document.from_dict(json.loads(line)) for line in fh]
    docs += [Document(id=r["id"], text=r["text"], source=r["source"])
             for r in pq.read_table(CORPUS / "code.parquet").to_pylist()]
    return docs


def _trained(step, docs, tmp_path):
    for doc in docs:
        step.observe(doc)
    step.finalize(tmp_path)
    return pickle.loads(pickle.dumps(step))  # as the runner sends it to its workers


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return _corpus()


@pytest.fixture(scope="module")
def domain_step(corpus, tmp_path_factory):
    return _trained(DomainClassifier(), corpus, tmp_path_factory.mktemp("domain"))


def _readmes_and_licences() -> list[Document]:
    """Installed packages' long descriptions (their READMEs) and licence files."""
    docs = []
    for dist in sorted(importlib.metadata.distributions(), key=lambda d: (d.metadata["Name"] or "").lower()):
        name = (dist.metadata["Name"] or "").lower()
        text = dist.read_text("METADATA") or ""
        if len(text) > 1500:
            docs.append(Document(id=f"readme-{name}", text=text))
        for file in dist.files or []:
            if file.name.upper().startswith(("LICENSE", "LICENCE", "COPYING")) and file.suffix in ("", ".txt", ".md"):
                licence = file.read_text() if Path(str(file.locate())).is_file() else ""
                if len(licence) > 500:
                    docs.append(Document(id=f"licence-{name}-{file.name}", text=licence))
    return docs


def _mpmath_maths() -> list[Document]:
    """mpmath's docstrings that state formulas (not in the built-in corpus, which has scipy,
    numpy and sympy)."""
    mpmath = pytest.importorskip("mpmath")
    docs = []
    for name in sorted(dir(mpmath)):
        doc = inspect.getdoc(getattr(mpmath, name)) or ""
        if len(doc) > 800 and (".. math::" in doc or "\\int" in doc or "\\sum" in doc):
            docs.append(Document(id=f"mpmath-{name}", text=doc))
    return docs


def test_domain_model_is_measured_on_a_held_out_split(domain_step):
    ev = domain_step.evaluation
    assert ev.method == TRAINED and set(ev.train_examples) == {"code", "general", "math_reasoning"}
    assert sum(m.support for m in ev.held_out) > 50
    for m in ev.held_out:
        assert m.precision >= 0.85 and m.recall >= 0.85, m


def test_readmes_and_licences_are_not_maths(domain_step):
    docs = _readmes_and_licences()
    assert len(docs) >= 100
    labels = {d.id: domain_step.apply(d).domain for d in docs}
    maths = sorted(k for k, v in labels.items() if v == "math_reasoning")
    assert len(maths) <= 0.03 * len(docs), maths  # the keyword rules labelled 20% (issue 15)
    if "readme-boto3" in labels:
        assert labels["readme-boto3"] != "math_reasoning"
    assert {d.metadata["domain_by"] for d in docs} <= {"model", "rules"}


def test_real_maths_is_maths(domain_step):
    docs = _mpmath_maths()
    assert len(docs) >= 10
    labelled = [domain_step.apply(d) for d in docs]
    share = sum(d.domain == "math_reasoning" for d in labelled) / len(labelled)
    assert share >= 0.8, [(d.id, d.domain) for d in labelled]
    assert all(0 < d.scores["domain_classifier.confidence"] <= 1 for d in labelled)


def test_known_domains_stay_and_language_decides_multilingual(domain_step):
    code = domain_step.apply(Document(id="c", text="A short note about a program.", source="source-code"))
    assert code.domain == "code" and code.metadata["domain_by"] == "label"
    german = domain_step.apply(Document(id="g", text="Dieses Programm zeigt die Dateien eines Verzeichnisses an.",
                                        source="manpages", language="de"))
    assert german.domain == "multilingual" and german.metadata["domain_by"] == "language"


def test_same_seed_same_model_and_labels_whatever_the_order(corpus, tmp_path):
    subset = corpus[::3]
    shuffled = list(subset)
    random.Random(5).shuffle(shuffled)
    a = _trained(DomainClassifier(), subset, tmp_path / "a")
    b = _trained(DomainClassifier(), shuffled, tmp_path / "b")
    assert a.model.data == b.model.data
    assert a.evaluation.held_out == b.evaluation.held_out
    probe = [Document(id=d.id, text=d.text) for d in corpus[1::7]]
    assert [a.apply(Document(id=d.id, text=d.text)).domain for d in probe] == \
           [b.apply(Document(id=d.id, text=d.text)).domain for d in probe]


def test_too_little_labelled_data_falls_back_to_rules_and_says_so(paragraphs, tmp_path):
    step = _trained(DomainClassifier(), [Document(id=str(i), text=p) for i, p in enumerate(paragraphs)], tmp_path)
    ev = read_classifier_eval(tmp_path / "keep" / "classifier.json")
    assert step.model is None and ev.method == FALLBACK and "too little labelled data" in ev.note
    doc = step.apply(Document(id="x", text=paragraphs[0]))
    assert doc.domain == "general" and doc.metadata["domain_by"] == "rules"


def test_rules_do_not_count_comparison_signs_as_maths():
    readme = ("Install with pip install boto3 >= 1.20. Set region = us-east-1 and retries = 3 in config.\n"
              "if x < 10 and y > 2: timeout = 30\nThe client returns a dict; key = value pairs follow. ") * 5
    assert DomainClassifier().classify(Document(id="r", text=readme))[0] != "math_reasoning"


SPAM = ["BUY NOW cheap pills best price click here free shipping limited offer",
        "click here win a free phone now best deals online casino bonus today only",
        "hot deals cheap watches replica bags sale sale click the link below now",
        "free download crack keygen serial full version no virus click link fast"]


def _quality_docs(paragraphs, corpus) -> list[Document]:
    """Judge-labelled documents: good = real prose and manual pages, junk = spam and keyword lists."""
    rng = random.Random(0)
    good = [p for p in paragraphs] + [d.text for d in corpus if d.source == "manpages"][:60]
    junk = []
    for i in range(70):
        words = " ".join(rng.choice(SPAM).split() * 3).split()
        rng.shuffle(words)
        junk.append(" ".join(words))
    docs = [Document(id=f"good-{i}", text=t, metadata={"quality_label": "hq"}) for i, t in enumerate(good)]
    return docs + [Document(id=f"junk-{i}", text=t, metadata={"quality_label": 0}) for i, t in enumerate(junk)]


def test_quality_model_separates_good_from_junk(paragraphs, corpus, tmp_path):
    docs = _quality_docs(paragraphs, corpus)
    step = _trained(QualityClassifier(QualityClassifierConfig(quality_sources={})), docs, tmp_path)
    ev = read_classifier_eval(tmp_path / "keep" / "classifier.json")
    assert ev.method == TRAINED and {m.label for m in ev.held_out} == {"hq", "lq"}
    assert all(m.precision >= 0.9 and m.recall >= 0.9 for m in ev.held_out), ev.held_out
    fresh_good = Document(id="new-good", text=paragraphs[-1] + " " + paragraphs[0])
    fresh_junk = Document(id="new-junk", text="cheap pills click here free casino bonus sale click now deals " * 4)
    assert step.apply(fresh_good).scores["quality_classifier.score"] > 0.5
    assert isinstance(step.apply(fresh_junk), Drop)
    german = Document(id="de", text="billig kaufen jetzt klicken", language="de")
    assert step.apply(german) is german and not german.scores  # not a language the labels describe


def test_quality_falls_back_to_a_heuristic_score_and_drops_nothing(paragraphs, tmp_path):
    step = _trained(QualityClassifier(), [Document(id=str(i), text=p) for i, p in enumerate(paragraphs)], tmp_path)
    assert read_classifier_eval(tmp_path / "keep" / "classifier.json").method == FALLBACK
    good = step.apply(Document(id="g", text=paragraphs[0]))
    junk = step.apply(Document(id="j", text="$$$ ### @@@ 123 456 !!! ??? %%% " * 10))
    assert not isinstance(junk, Drop)
    assert good.scores["quality_classifier.score"] > junk.scores["quality_classifier.score"]


def test_quality_same_seed_same_scores(paragraphs, corpus, tmp_path):
    docs = _quality_docs(paragraphs, corpus)
    a = _trained(QualityClassifier(QualityClassifierConfig(quality_sources={})), docs, tmp_path / "a")
    b = _trained(QualityClassifier(QualityClassifierConfig(quality_sources={})), docs[::-1], tmp_path / "b")
    assert a.trained.data == b.trained.data
    probe = [Document(id=f"p{i}", text=d.text) for i, d in enumerate(corpus[:40])]
    assert [a.score(d.text) for d in probe] == [b.score(d.text) for d in probe]
