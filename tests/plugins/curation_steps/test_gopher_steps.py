import pytest

from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import GopherRepetitionConfig, LengthConfig
from herd.plugins.curation_steps.gopher import GopherQuality, GopherRepetition, Length


def test_gopher_keeps_a_normal_article(article):
    doc = Document(id="a", text=article)
    assert GopherRepetition().apply(doc) is doc
    assert GopherQuality().apply(doc) is doc


def test_repeated_lines_are_dropped(paragraphs):
    log = "\n".join(["ERROR connection to database refused, retrying in 5 seconds"] * 12 + [paragraphs[0]])
    result = GopherRepetition().apply(Document(id="log", text=log))
    assert isinstance(result, Drop)
    assert result.reason.startswith("gopher_repetition.dup_")


def test_repeated_paragraphs_are_dropped(paragraphs):
    text = "\n\n".join([paragraphs[0], paragraphs[1], paragraphs[1], paragraphs[1]])
    result = GopherRepetition().apply(Document(id="p", text=text))
    assert result.reason in ("gopher_repetition.dup_para_frac", "gopher_repetition.dup_para_char_frac")


def test_top_ngram_rule_catches_keyword_stuffing(paragraphs):
    stuffed = paragraphs[2] + " " + " ".join(["cheap flights"] * 60)
    result = GopherRepetition().apply(Document(id="s", text=stuffed))
    assert result.reason == "gopher_repetition.top_2gram"


def test_duplicated_ngram_coverage_on_one_line(paragraphs):
    # the same long sentence repeated inside one paragraph: no duplicated line, but 5..10-grams repeat
    sentence = "the quarterly report shows that revenue grew in every region except the north "
    text = paragraphs[3] + " " + sentence * 6
    assert GopherRepetition().check(text)[0].startswith(("dup_", "top_"))
    reason = GopherRepetition().check(paragraphs[3] + " " + sentence * 6)[0]
    assert reason in {"top_2gram", "top_3gram", "top_4gram"} | {f"dup_{n}gram" for n in range(5, 11)}


def test_quality_rules(paragraphs):
    q = GopherQuality()
    assert q.check("too short to be a document")[0] == "too_few_words"
    assert q.check(" ".join(["1234 5678 #### 99"] * 40))[0] in ("short_words", "symbol_ratio", "alpha_ratio")
    bullets = "\n".join(f"- item number {i} in the list of things to buy" for i in range(30))
    assert q.check(bullets)[0] == "bullet_lines"
    ellipsis = "\n".join(f"Read more about story {i} and the people who were involved in it..." for i in range(30))
    assert q.check(ellipsis)[0] == "ellipsis_lines"
    no_stop = " ".join(["Buy cheap watches online now, free shipping worldwide!"] * 12)
    assert q.check(no_stop)[0] == "stop_words"
    # outside English the rule asks for the language's own stop words, and does not apply
    # where no list ships (Esperanto)
    assert q.check(no_stop, language="de") == ("stop_words", "0 de stop words < 2")
    assert q.check(no_stop, language="eo") is None


GERMAN = ("Der Stadtrat hat am Donnerstag ein neues Verkehrskonzept für die Innenstadt beschlossen, "
          "und die Händler sehen die Pläne kritisch, weil viele Kunden mit dem Auto kommen. ") * 4
KOREAN = ("서울시는 내년 1월부터 심야 시간대 버스 노선을 늘린다고 밝혔다. 새로 생기는 노선은 주로 외곽 지역과 "
          "도심을 연결하며 자정부터 새벽까지 운행된다. 시민들은 대체로 환영하는 반응을 보였다. ") * 3
JAPANESE = ("市は来年度から市内すべての公立小学校で給食費を無償にする方針を明らかにした。"
            "保護者からは歓迎の声が上がる一方で、給食の質が下がらないか心配する声もある。") * 2


def test_per_language_forms_of_the_quality_rules():
    q = GopherQuality()
    assert q.check(GERMAN, language="de") is None
    # English's stop words are not German's: the published rule would drop German text
    assert q.check(GERMAN)[0] == "stop_words"
    # Korean passes with Korean stop words and no word-length bound (its words are a few
    # syllables long; the published rules drop it)
    assert q.check(KOREAN, language=None) is not None
    assert q.check(KOREAN, language="ko") is None
    # Japanese has no spaces: its words are counted by characters (about 2 a word)
    assert q.check(JAPANESE, language=None)[0] == "too_few_words"
    assert q.check(JAPANESE, language="ja") is None
    assert q.check("激安セール特価送料無料ブランド。" * 12, language="ja")[0] == "stop_words"


def test_length_counts_words_by_characters_without_spaces():
    step = Length(LengthConfig(min_chars=50, min_words=20))
    assert step.apply(Document(id="ja", text=JAPANESE, language="ja")).id == "ja"
    assert step.apply(Document(id="un", text=JAPANESE)).reason == "length.too_few_words"


def test_a_pull_quote_is_layout_not_repetition():
    body = [
        "The council voted on Tuesday to close the old bridge to cars from next spring onwards.",
        "Engineers found cracks in two of its piers last year, and repairs would cost more than a new bridge.",
        "Shop owners on both banks fear that fewer customers will come once drivers must go round.",
        "A ferry will run every twenty minutes while the new bridge is built, the mayor said.",
    ]
    quote = body[1]  # a pull quote repeats a sentence of the body on its own line
    article = "\n".join([body[0], body[1] + " " + body[2], quote, body[3]])
    assert GopherRepetition().check(article) is None
    off = GopherRepetition(GopherRepetitionConfig(quote_min_words=0))
    assert off.check(article)[0].startswith("dup_")
    # a line repeated whole, line after line, is repetition either way
    assert GopherRepetition().check("\n".join([body[0]] + [quote] * 8)) is not None


def test_repeated_ngrams_are_counted_as_the_reference_implementation_counts_them():
    """Decisions equal datatrove's GopherRepetitionFilter (the reference implementation of
    the Gopher rules) on texts of words from a small vocabulary, n-gram rule by n-gram rule."""
    import random

    datatrove = pytest.importorskip("datatrove.pipeline.filters.gopher_repetition_filter")
    from datatrove.data import Document as DatatroveDocument

    rng = random.Random(0)
    vocabulary = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    agree = 0
    for t in range(300):
        words = [rng.choice(vocabulary[: rng.randint(3, 10)]) for _ in range(rng.randint(20, 120))]
        text = " ".join(words)
        n = rng.randint(5, 10)
        frac = rng.choice([0.05, 0.1, 0.15, 0.3])
        cfg = GopherRepetitionConfig(dup_line_frac=1, dup_para_frac=1, dup_line_char_frac=1, dup_para_char_frac=1,
                                     top_ngrams={}, dup_ngrams={str(n): frac}, quote_min_words=0)
        ours = GopherRepetition(cfg).check(text) is None
        theirs = datatrove.GopherRepetitionFilter(
            dup_line_frac=None, dup_para_frac=None, dup_line_char_frac=None, dup_para_char_frac=None,
            top_n_grams=(), dup_n_grams=((n, frac),)).filter(DatatroveDocument(text=text, id=str(t))) is True
        agree += ours == theirs
    assert agree == 300

def test_length_bounds(article):
    step = Length(LengthConfig(min_chars=100, max_chars=5000, min_words=20))
    assert step.apply(Document(id="ok", text=article)).id == "ok"
    assert step.apply(Document(id="s", text="Home")).reason == "length.too_short"
    assert step.apply(Document(id="l", text="word " * 2000)).reason == "length.too_long"


def test_equally_frequent_ngrams_the_first_one_counts():
    """Two 2-grams occur six times each; the rule measures the one that occurs first (as
    datatrove's ``Counter.most_common``), whatever the process's hash salt."""
    words = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
            "seventeen eighteen".split()
    short_first = " ".join(f"ab cd {words[3 * i]} extraordinarily incomprehensibilities {words[3 * i + 1]} "
                           f"{words[3 * i + 2]}" for i in range(6))
    assert GopherRepetition().check(short_first) is None  # "ab cd" covers 0.08 of the characters
    long_first = " ".join(f"extraordinarily incomprehensibilities {words[3 * i]} ab cd {words[3 * i + 1]} "
                          f"{words[3 * i + 2]}" for i in range(6))
    assert GopherRepetition().check(long_first)[0] == "top_2gram"


def test_word_hashes_are_the_same_in_every_process():
    import subprocess
    import sys

    from herd.plugins.curation_steps.gopher import word_hashes

    words = "Ünïcode words, numbers 42 and ünïcode WORDS".split()
    code = ("import sys; from herd.plugins.curation_steps.gopher import word_hashes; "
            "print(list(word_hashes(sys.argv[1:])))")
    out = subprocess.run([sys.executable, "-c", code, *words], capture_output=True, text=True,
                         env={"PYTHONHASHSEED": "7", "PATH": ""}, check=True).stdout
    hashes = word_hashes(words)
    assert out.strip() == str(list(hashes))
    assert len(set(hashes.tolist())) == len(set(words))


def test_word_length_rules_skip_languages_written_without_spaces():
    # Each whitespace "word" of Chinese prose is a whole phrase.
    sentence = "我们今天在图书馆里读了很多关于历史和科学的书，然后一起去公园散步。"
    text = " ".join([sentence] * 60)
    q = GopherQuality()
    assert q.check(text)[0] == "long_words"
    assert q.check(text, language="zh") is None
