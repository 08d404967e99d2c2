"""Language ID accuracy on the labelled multilingual sample, the curation step, SFT rows,
and the fastText backend with a model trained here."""

import json
from pathlib import Path

import pytest

from herd.core.errors import ConfigError, InputError
from herd.core.records import ChatMessage, Document, Drop, SFTRow
from herd.plugins.multilingual.config import LanguageIdConfig, LidSettings
from herd.plugins.multilingual.langid import LanguageIdentifier, LanguageIdFilter, label_rows

SAMPLE = Path(__file__).resolve().parents[3] / "plugins" / "multilingual" / "data" / "langid_sample.jsonl"


def labelled():
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def test_lingua_accuracy_on_labelled_sample(identifier):
    rows = labelled()
    assert len({r["language"] for r in rows}) == 8 and len(rows) == 64
    found = identifier.detect_many([r["text"] for r in rows])
    correct = sum(f.language == r["language"] for f, r in zip(found, rows))
    assert correct / len(rows) >= 0.95
    assert all(0.0 < f.confidence <= 1.0 for f in found)


def test_filter_stores_language_and_confidence_and_drops_by_config():
    step = LanguageIdFilter(LanguageIdConfig(keep_languages=["fr", "de"], min_confidence=0.3))
    doc = step.apply(Document("1", text="Le chat dort sur le canapé depuis ce matin, sans bouger."))
    assert doc.language == "fr" and doc.scores["language_id.confidence"] > 0.3
    dropped = step.apply(Document("2", text="The cat has been sleeping on the sofa all morning."))
    assert isinstance(dropped, Drop) and dropped.reason == "language_id.unwanted_language"
    empty = step.apply(Document("3", text="12345 ```print(1)```"))
    assert isinstance(empty, Drop) and empty.reason == "language_id.unknown"
    keep_all = LanguageIdFilter(LanguageIdConfig()).apply(Document("4", text="..."))
    assert isinstance(keep_all, Document) and keep_all.language is None


def test_label_rows_uses_the_user_turns(identifier):
    rows = [
        SFTRow("a", [ChatMessage("user", "Wie spät ist es jetzt in Berlin?"), ChatMessage("assistant", "It is noon.")]),
        SFTRow("b", [ChatMessage("user", "Where is the nearest train station?"), ChatMessage("assistant", "Hi")],
               language="en"),
        # Declared French, written in German: the declared language stays, with a low confidence.
        SFTRow("c", [ChatMessage("user", "Wo ist der nächste Bahnhof, bitte?"), ChatMessage("assistant", "x")],
               language="fr"),
    ]
    label_rows(rows, identifier)
    assert rows[0].language == "de" and rows[0].scores["language_id.confidence"] > 0.5
    assert rows[1].language == "en" and rows[1].scores["language_id.confidence"] > 0.5
    assert rows[2].language == "fr" and rows[2].scores["language_id.confidence"] < 0.1


def test_language_label_judge_in_the_sft_funnel():
    from herd.lib.sft_funnel.config import SFTFunnelConfig
    from herd.lib.sft_funnel.funnel import run_funnel
    from herd.plugins.multilingual.langid import LanguageLabel

    rows = [SFTRow("es", [ChatMessage("user", "¿Dónde está la estación de tren?"), ChatMessage("assistant", "Allí.")]),
            SFTRow("en", [ChatMessage("user", "Where is the train station?"), ChatMessage("assistant", "There.")])]
    result = run_funnel(rows, [("language_id", LanguageLabel())], SFTFunnelConfig(semantic_dedup=False))
    assert result.counts == {"input": 2, "after.language_id": 2, "kept": 2, "dropped": 0}
    assert [r.language for r in result.kept] == ["es", "en"]
    assert all(r.scores["language_id.confidence"] > 0.5 for r in result.kept)
    assert result.kept[0].metadata["judge_notes"]["language_id.confidence"] == "language es"


def test_bad_language_codes_are_config_errors():
    with pytest.raises(ConfigError, match="xx"):
        LanguageIdentifier(LidSettings(languages=["en", "xx"]))
    with pytest.raises(InputError, match="does not exist"):
        LanguageIdentifier(LidSettings(fasttext_model="/nonexistent/lid.176.bin"))


def test_fasttext_backend_with_a_model_trained_on_the_sample(tmp_path):
    import fasttext

    rows = labelled()
    train = tmp_path / "train.txt"
    train.write_text("".join(f"__label__{r['language']} {r['text']}\n" for r in rows * 5), encoding="utf-8")
    model = fasttext.train_supervised(str(train), minn=1, maxn=4, epoch=50, dim=32, lr=0.5, verbose=0, thread=1, seed=1)
    path = tmp_path / "lid.bin"
    model.save_model(str(path))
    ft = LanguageIdentifier(LidSettings(languages=["en", "fr", "de", "es", "zh", "ja", "ru", "th"], fasttext_model=str(path)))
    assert ft.backend == "fasttext"
    found = ft.detect_many([r["text"] for r in rows])
    assert sum(f.language == r["language"] for f, r in zip(found, rows)) / len(rows) >= 0.9
    top, second = found[0].ranked[:2]
    assert top[1] > second[1] and sum(v for _, v in found[0].ranked) <= 1.0001
    restricted = LanguageIdentifier(LidSettings(languages=["en", "de"], fasttext_model=str(path)))
    assert {code for code, _ in restricted.detect("Le chat dort sur le canapé.").ranked} <= {"en", "de"}


def test_language_id_step_survives_pickling_for_workers():
    import pickle

    step = pickle.loads(pickle.dumps(LanguageIdFilter(LanguageIdConfig(lid=LidSettings(languages=["en", "es"])))))
    assert step.apply(Document("1", text="¿Dónde está la estación de tren más cercana?")).language == "es"
