"""The curation step that labels every document with its language."""

import pickle

from herd.core.records import Document, Drop
from herd.lib.language.settings import LidSettings
from herd.plugins.curation_steps.configs import LanguageIdConfig
from herd.plugins.curation_steps.language import LanguageIdFilter


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



def test_language_id_step_survives_pickling_for_workers():
    step = pickle.loads(pickle.dumps(LanguageIdFilter(LanguageIdConfig(lid=LidSettings(languages=["en", "es"])))))
    assert step.apply(Document("1", text="¿Dónde está la estación de tren más cercana?")).language == "es"

