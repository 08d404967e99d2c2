"""Token-distribution KL is judged within each language: a page in a minority language is
far from a corpus that is mostly English, but it is no outlier among its own language."""

import json
import random

from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import TokenKLConfig
from herd.plugins.curation_steps.token_kl import TokenKL

ENGLISH = ("the council said that the new bridge would open in the spring and that the old one "
           "would close to cars while engineers repair its piers over the coming months").split()
GERMAN = ("der rat sagte dass die neue brücke im frühjahr öffnen werde und dass die alte für autos "
          "gesperrt bleibe während ingenieure ihre pfeiler in den kommenden monaten reparieren").split()


def _doc(i: int, words: list[str], language: str | None, rng: random.Random) -> Document:
    return Document(id=f"{language}-{i}", text=" ".join(rng.choice(words) for _ in range(80)), language=language)


def test_a_minority_language_is_compared_with_itself(tmp_path):
    rng = random.Random(0)
    docs = [_doc(i, ENGLISH, "en", rng) for i in range(200)] + [_doc(i, GERMAN, "de", rng) for i in range(3)]
    step = TokenKL(TokenKLConfig(percentile=95.0, min_tokens=20, min_language_sample=50))
    for doc in docs:
        step.observe(doc)
    step.finalize(tmp_path)
    results = [step.apply(d) for d in docs]
    # against the whole corpus the German pages are the outliers; German has no cut-off of
    # its own (3 sampled pages < 50), so none of them is dropped
    assert all(isinstance(r, Document) for r in results[200:])
    assert min(r.scores["token_kl.kl"] for r in results[200:]) > max(d.scores["token_kl.kl"] for d in docs[:200])
    stats = json.loads((tmp_path / "token_kl" / "stats.json").read_text())
    assert set(stats["thresholds_by_language"]) == {"en"} and stats["sampled_by_language"]["de"] == 3
    # English is judged against English: about the top 5% of its pages go
    dropped = sum(isinstance(r, Drop) for r in results[:200])
    assert 1 <= dropped <= 20
    assert step.cutoff("de") == float("inf") and step.cutoff(None) == step.threshold


def test_a_language_with_enough_pages_gets_its_own_cut_off(tmp_path):
    rng = random.Random(1)
    docs = [_doc(i, ENGLISH, "en", rng) for i in range(120)] + [_doc(i, GERMAN, "de", rng) for i in range(80)]
    step = TokenKL(TokenKLConfig(percentile=95.0, min_tokens=20, min_language_sample=50))
    for doc in docs:
        step.observe(doc)
    step.finalize(tmp_path)
    results = [step.apply(d) for d in docs]
    german_dropped = sum(isinstance(r, Drop) for r in results[120:])
    assert 1 <= german_dropped <= 8  # the top of the German pages, not all 80 of them
    assert step.cutoff("de") > step.cutoff("en")
