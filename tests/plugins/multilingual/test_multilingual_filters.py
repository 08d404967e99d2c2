"""Per-language dirty words and script-aware heuristics through ``apply``."""

import pytest

from herd.core.errors import InputError
from herd.core.records import Document, Drop
from herd.plugins.multilingual.config import DirtyWordsConfig, ScriptHeuristicsConfig
from herd.plugins.multilingual.filters import DirtyWords, ScriptHeuristics, shipped_lists
from herd.lib.language.units import count_words


def test_lists_ship_for_at_least_three_non_english_languages():
    assert {"fr", "de", "es", "zh", "ja"} <= set(shipped_lists())


def test_dirty_words_per_language():
    step = DirtyWords(DirtyWordsConfig(max_ratio=0.05, min_hits=2))
    clean_fr = Document("1", text="Le marché du samedi attire beaucoup de monde sur la place.", language="fr")
    assert isinstance(step.apply(clean_fr), Document)
    dirty_de = Document("2", text="Porno und Sexkontakte gratis, Porno hier klicken", language="de")
    assert isinstance(step.apply(dirty_de), Drop)
    # The German list does not apply to a French document with a German word in it.
    assert isinstance(step.apply(Document("3", text="ficken ficken est un mot allemand", language="fr")), Document)
    # Whole words only: "escorte" (French for an escort of ships) is not "escort".
    assert step.hits("Une escorte de navires et une escorte militaire.", "fr") == 0


def test_dirty_words_substrings_for_chinese_and_ratio_by_characters():
    step = DirtyWords(DirtyWordsConfig(max_ratio=0.05, min_hits=2))
    spam = Document("zh", text="免费色情视频，色情网站，成人视频在线观看", language="zh")
    result = step.apply(spam)
    assert isinstance(result, Drop) and "zh" in result.detail
    # Two hits in a long clean article stay below the ratio.
    long_article = "我们小区门口有一家开了二十多年的面馆。" * 20 + "色情" * 2
    assert isinstance(step.apply(Document("zh2", text=long_article, language="zh")), Document)


def test_dirty_word_list_from_config(tmp_path):
    extra = tmp_path / "it.txt"
    extra.write_text("# Italian\nparolaccia\n", encoding="utf-8")
    step = DirtyWords(DirtyWordsConfig(lists={"it": str(extra)}, max_ratio=0.1))
    assert step.hits("una parolaccia e un'altra parolaccia", "it") == 2
    with pytest.raises(InputError, match="missing.txt"):
        DirtyWords(DirtyWordsConfig(lists={"it": str(tmp_path / "missing.txt")}))


def test_words_are_counted_by_characters_for_scripts_without_spaces():
    assert count_words("我爱北京天安门", "zh", {"zh": 1.0}) == 7
    assert count_words("I love Beijing", "en") == 3
    assert count_words("我爱 Python 编程", "zh", {"zh": 2.0}) == 1 + 4 / 2


def test_script_heuristics():
    step = ScriptHeuristics(ScriptHeuristicsConfig(min_words=20, chars_per_word={"zh": 1.0}))
    short = Document("a", text="面馆很好吃。", language="zh")
    assert step.apply(short).reason == "script_heuristics.too_short"
    good = Document("b", text="我们小区门口有一家开了二十多年的面馆，老板每天清晨五点就起床和面。", language="zh")
    assert isinstance(step.apply(good), Document) and good.scores["script_heuristics.script_ratio"] == 1.0
    latin = Document("c", text="this page is labelled chinese but written in english 中文 " * 3, language="zh")
    assert step.apply(latin).reason == "script_heuristics.wrong_script"
    hashtags = Document("d", text="#美食 #旅行 #生活 #日常 #快乐 " * 5, language="zh")
    assert step.apply(hashtags).reason == "script_heuristics.symbols"
    english = Document("e", text="short", language="en")
    assert step.apply(english) is english  # other languages are left to the Gopher rules


def test_script_ratio_counts_words_so_technical_cjk_text_passes():
    """A Chinese help text full of option names is Chinese: letters would say 40% Chinese
    (a Latin word is many letters, a Chinese word one or two characters), words say more."""
    from herd.lib.language.units import script_ratio

    help_text = ("--include=GLOB        只查找匹配 GLOB 的文件\n"
                 "--exclude-dir=GLOB    跳过匹配 GLOB 的目录\n"
                 "-E, --extended-regexp     <模式> 是扩展正则表达式\n") * 4
    cpw = {"zh": 1.5}
    assert script_ratio(help_text, "zh", cpw) > 0.5
    step = ScriptHeuristics(ScriptHeuristicsConfig(min_words=10))
    assert isinstance(step.apply(Document("h", text=help_text, language="zh")), Document)
    english_page = "passwd - 更改用户密码\n" + "The passwd command changes passwords for user accounts. " * 4
    assert script_ratio(english_page, "zh", cpw) < 0.3
    assert step.apply(Document("p", text=english_page, language="zh")).reason == "script_heuristics.wrong_script"


def test_per_language_quality_classifier(tmp_path):
    import fasttext

    from herd.core.errors import ConfigError
    from herd.plugins.multilingual.config import LanguageQualityConfig
    from herd.plugins.multilingual.filters import LanguageQuality

    good = ["La recette traditionnelle demande du beurre, de la farine et beaucoup de patience.",
            "Le musée présente une collection de peintures du dix-neuvième siècle."]
    bad = ["cliquez ici cliquez ici gagnez gratuit gratuit promo promo", "promo gratuit cliquez gagnez vite vite"]
    train = tmp_path / "q.txt"
    train.write_text("".join(f"__label__hq {t}\n" for t in good * 20) + "".join(f"__label__lq {t}\n" for t in bad * 20))
    model = fasttext.train_supervised(str(train), epoch=25, lr=0.5, verbose=0, thread=1, seed=1)
    path = tmp_path / "fr_quality.bin"
    model.save_model(str(path))
    step = LanguageQuality(LanguageQualityConfig(models={"fr": str(path)}))
    kept = step.apply(Document("1", text=good[0], language="fr"))
    assert isinstance(kept, Document) and kept.scores["language_quality.score"] > 0.5
    assert step.apply(Document("2", text=bad[0], language="fr")).reason == "language_quality.low_quality"
    english = Document("3", text="click here free promo", language="en")
    assert step.apply(english) is english
    with pytest.raises(ConfigError, match="models is empty"):
        LanguageQuality(LanguageQualityConfig())
