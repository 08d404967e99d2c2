"""The language detector: accuracy on the labelled multilingual sample, the sampled
prefix it reads, config errors, and the fastText backend with a model trained here."""

import json
from pathlib import Path

import pytest

from herd.core.errors import ConfigError, InputError
from herd.lib.language.detect import LanguageIdentifier, sample
from herd.lib.language.settings import LidSettings

SAMPLE = Path(__file__).resolve().parents[3] / "plugins" / "multilingual" / "data" / "langid_sample.jsonl"


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier()


def labelled():
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def test_lingua_accuracy_on_labelled_sample(identifier):
    rows = labelled()
    assert len({r["language"] for r in rows}) == 8 and len(rows) == 64
    found = identifier.detect_many([r["text"] for r in rows])
    correct = sum(f.language == r["language"] for f, r in zip(found, rows))
    assert correct / len(rows) >= 0.95
    assert all(0.0 < f.confidence <= 1.0 for f in found)



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



def test_sample_reads_pieces_spread_over_the_text():
    text = "menu " * 100 + "x" * 10 + "Der Hund schläft im Garten. " * 100
    cut = sample(text, 200)
    assert len(cut) <= 201 and cut.startswith("menu menu") and "Hund" in cut
    assert sample("short  text\n here", 200) == "short text here"


def test_a_body_after_a_foreign_menu_decides_the_language(identifier):
    menu = "Home News Sport Weather Contact Subscribe Sign in " * 8
    body = "소비자들은 물가 상승 때문에 지출을 줄이고 있으며, 정부는 새로운 지원 대책을 발표했다. " * 20
    assert identifier.detect(menu + body).language == "ko"


def test_korean_and_indonesian_are_among_the_default_languages(identifier):
    found = identifier.detect_many([
        "서울시는 내년부터 심야 버스 노선을 확대한다고 밝혔다.",
        "Pemerintah kota berjanji akan membersihkan saluran air setelah banjir surut.",
    ])
    assert [f.language for f in found] == ["ko", "id"]
