from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import LengthConfig
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
    # the stop-word rule applies to English only
    assert q.check(no_stop, language="de") is None


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
