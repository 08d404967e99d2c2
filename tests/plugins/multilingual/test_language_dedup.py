"""Per-language document and line dedup: observe all, finalize, apply."""

import pickle
import random

from herd.core.records import Document, Drop
from herd.plugins.multilingual.config import LanguageDedupConfig
from herd.plugins.multilingual.dedup import LanguageDedup

FOOTER = "Tous droits réservés — mentions légales — contact"


def corpus():
    docs = [Document(f"fr{i}", text=f"Article numéro {i} sur la cuisine régionale et ses traditions anciennes.\n{FOOTER}",
                     language="fr") for i in range(8)]
    docs.append(Document("frz-dup", text=docs[2].text.upper(), language="fr"))  # same after normalisation
    docs.append(Document("en-same", text=docs[3].text, language="en"))  # same text, other language key
    docs.append(Document("de0", text=f"Ein Artikel über die regionale Küche und alte Traditionen hier.\n{FOOTER}",
                         language="de"))
    docs.append(Document("fr-footer-only", text=FOOTER, language="fr"))
    return docs


def run(docs, tmp_path, cfg=None):
    step = LanguageDedup(cfg or LanguageDedupConfig(max_line_occurrences=6, min_doc_chars=20))
    for doc in docs:
        step.observe(doc)
    step.finalize(tmp_path)
    return step, {d.id: step.apply(Document(d.id, text=d.text, language=d.language)) for d in docs}


def test_documents_and_lines_are_deduplicated_per_language(tmp_path):
    step, out = run(corpus(), tmp_path)
    assert (tmp_path / "language_dedup.sqlite").exists()
    dup = out["frz-dup"]
    assert isinstance(dup, Drop) and dup.reason == "language_dedup.duplicate_document" and "fr2" in dup.detail
    assert isinstance(out["en-same"], Document)  # English copy is not a French duplicate
    # The footer is in 10 French docs (> 6): removed from every French doc...
    assert FOOTER not in out["fr0"].text and out["fr0"].scores["language_dedup.lines_removed"] == 1
    assert out["fr-footer-only"].reason == "language_dedup.empty_after_line_dedup"
    # ...but only in 1 German doc, so the German doc keeps it.
    assert FOOTER in out["de0"].text
    # en-same's footer: one English doc only.
    assert FOOTER in out["en-same"].text


def test_result_does_not_depend_on_observe_order(tmp_path):
    docs = corpus()
    _, first = run(docs, tmp_path / "a")
    shuffled = docs[:]
    random.Random(3).shuffle(shuffled)
    _, second = run(shuffled, tmp_path / "b")
    summary = lambda out: {k: (v.reason if isinstance(v, Drop) else v.text) for k, v in out.items()}
    assert summary(first) == summary(second)


def test_finalized_step_survives_pickling_for_workers(tmp_path):
    step, _ = run(corpus(), tmp_path)
    clone = pickle.loads(pickle.dumps(step))
    again = clone.apply(Document("frz-dup", text=corpus()[8].text, language="fr"))
    assert isinstance(again, Drop)


def test_line_dedup_can_be_switched_off(tmp_path):
    _, out = run(corpus(), tmp_path, LanguageDedupConfig(lines=False))
    assert FOOTER in out["fr0"].text and isinstance(out["frz-dup"], Drop)
