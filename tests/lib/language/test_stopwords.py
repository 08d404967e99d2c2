"""Per-language stop words come from the stop lists jusText ships."""

from herd.lib.language.stopwords import FUNCTION_CHARACTERS, FUNCTION_SUFFIXES, stop_words, strip_punctuation


def test_most_frequent_words_of_each_language():
    assert {"der", "und", "die"} <= stop_words("de", 32)
    assert {"yang", "dan", "di"} <= stop_words("id", 32)
    assert {"и", "в", "на"} <= stop_words("ru", 32)
    assert {"de", "que", "não"} <= stop_words("pt", 32)
    assert len(stop_words("fr", 8)) == 8 and stop_words("fr", 8) <= stop_words("fr", 32)


def test_no_list_means_an_empty_set():
    assert stop_words("eo", 32) == frozenset()
    assert stop_words("ja", 32) == frozenset() and "の" in FUNCTION_CHARACTERS["ja"]
    assert "는" in FUNCTION_SUFFIXES["ko"]


def test_punctuation_is_stripped_from_both_ends():
    assert strip_punctuation("«Hallo,»") == "Hallo"
    assert strip_punctuation("있다.") == "있다"
