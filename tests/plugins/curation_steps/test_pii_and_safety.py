import pytest

from herd.core.errors import ConfigError
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import AdultKeywordsConfig, DirtyWordsConfig, PIIConfig, URLBlocklistConfig
from herd.plugins.curation_steps.pii import PII, iban_valid, luhn_valid
from herd.plugins.curation_steps.safety import AdultKeywords, DirtyWords, URLBlocklist

LETTER = (
    "Hi Anna, thanks for the invoice. You can reach me at jan.kowalski@example.org or on "
    "+44 20 7946 0958 (office) or (212) 555-0199. The server is at 192.168.10.24 and the new one "
    "at 2001:db8::8a2e:370:7334. Please charge card 4539 1488 0343 6467 and send the refund to "
    "IBAN GB82 WEST 1234 5698 7654 32. Order 2024-000123456 shipped at 10:30:15 on 2024-05-01."
)


def test_luhn():
    assert luhn_valid("4539 1488 0343 6467")
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4539 1488 0343 6468")
    assert not luhn_valid("1234")


def test_iban():
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert iban_valid("DE89370400440532013000")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")


def test_redaction_replaces_every_identifier_and_nothing_else():
    doc = PII().apply(Document(id="l", text=LETTER))
    assert doc.metadata["pii"] == {"email": 1, "phone": 2, "ipv4": 1, "ipv6": 1, "card": 1, "iban": 1}
    for secret in ("jan.kowalski", "7946", "555-0199", "192.168", "2001:db8", "4539", "GB82"):
        assert secret not in doc.text
    # dates, times and order numbers stay
    assert "2024-000123456" in doc.text and "10:30:15" in doc.text and "2024-05-01" in doc.text


def test_card_that_fails_luhn_is_kept():
    doc = PII().apply(Document(id="x", text="Reference number 4539 1488 0343 6468 is not a card."))
    assert "4539 1488 0343 6468" in doc.text


def test_drop_mode():
    result = PII(PIIConfig(mode="drop", kinds=["email"])).apply(Document(id="x", text=LETTER))
    assert isinstance(result, Drop) and result.reason == "pii.email"
    with pytest.raises(ConfigError):
        PII(PIIConfig(mode="mask"))


def test_url_blocklist(tmp_path):
    step = URLBlocklist()
    assert step.apply(Document(id="a", text="x", url="https://www.pornhub.com/view")).reason == "url_blocklist.domain"
    assert step.apply(Document(id="b", text="x", url="https://sub.adult-example.test/")).reason == "url_blocklist.domain"
    assert step.apply(Document(id="c", text="x", url="https://notpornhub.com.example.org/")).id == "c"
    custom = tmp_path / "list.txt"
    custom.write_text("# mine\nexample.org\n")
    replaced = URLBlocklist(URLBlocklistConfig(path=str(custom)))
    assert isinstance(replaced.apply(Document(id="d", text="x", url="http://news.example.org/a")), Drop)
    assert replaced.apply(Document(id="e", text="x", url="https://www.pornhub.com/")).id == "e"
    with pytest.raises(ConfigError, match="missing.txt"):
        URLBlocklist(URLBlocklistConfig(path=str(tmp_path / "missing.txt")))


def test_adult_keywords(paragraphs):
    step = AdultKeywords()
    assert step.apply(Document(id="u", text=paragraphs[0], url="http://x.com/free-porn-videos")).reason == "adult_keywords.url"
    assert step.apply(Document(id="ok", text=paragraphs[0], url="http://www.sussex.ac.uk/essex")).id == "ok"
    spam = paragraphs[1] + " Watch live sex cams, hardcore sex and xxx videos now, hot milf pics."
    assert step.apply(Document(id="t", text=spam)).reason == "adult_keywords.text"
    news = paragraphs[0] + " The court heard a case about online pornography regulation."
    assert step.apply(Document(id="n", text=news)).id == "n"
    assert isinstance(AdultKeywords(AdultKeywordsConfig(min_text_matches=1)).apply(Document(id="n", text=news)), Drop)


def test_dirty_words_ratio_and_languages(paragraphs, tmp_path):
    step = DirtyWords()
    clean = step.apply(Document(id="c", text=paragraphs[4]))
    assert clean.scores["dirty_words.ratio"] == 0
    dirty = paragraphs[5] + " fuck this shit, what a bitch of a game, fucking hell, shit again"
    assert step.apply(Document(id="d", text=dirty)).reason == "dirty_words.ratio"
    german = "Du Arschloch, du Wichser, du Schlampe, ficken ficken " + "und das Wetter ist schön " * 5
    assert step.apply(Document(id="g", text=german, language="de")).reason == "dirty_words.ratio"
    assert not isinstance(step.apply(Document(id="g2", text=german, language="fr")), Drop)
    custom = tmp_path / "en.txt"
    custom.write_text("bicycle\ncouncil\n")
    replaced = DirtyWords(DirtyWordsConfig(lists={"en": str(custom)}, min_count=2, max_ratio=0.01))
    assert replaced.apply(Document(id="r", text=paragraphs[0])).reason == "dirty_words.ratio"


COURT_REPORT = (
    "A jury found the former coach guilty of two counts of rape and one count of sexual assault. "
    "A nurse told jurors that her findings were consistent with the account of the rape. "
    "The defense said a rape accusation must be proven beyond a reasonable doubt, and that no sex "
    "had taken place. Each rape count carries up to 25 years in prison. "
)


def test_context_words_alone_never_reach_the_density():
    """Issue 15 item 6: a court report on a rape trial was dropped for its legal terms."""
    step = DirtyWords()
    report = step.apply(Document(id="court", text=COURT_REPORT * 2, language="en"))
    assert isinstance(report, Document) and report.scores["dirty_words.ratio"] == 0
    # beside explicit words, context words count too
    spam = step.apply(Document(id="spam", text="hot sex videos, nude girls, free porn, sex sex porn " * 3))
    assert spam.reason == "dirty_words.ratio"
    hits, total = step.count("porn and sex and nude", "en")
    assert (hits, total) == (3, 5)
    # a language without a list is not checked
    assert isinstance(step.apply(Document(id="ko", text="porn porn porn porn", language="ko")), Document)


def test_placeholder_text_is_dropped_whatever_its_case():
    from herd.plugins.curation_steps.configs import PlaceholderTextConfig
    from herd.plugins.curation_steps.placeholder import PlaceholderText

    step = PlaceholderText()
    assert step.apply(Document(id="l", text="Our services. LOREM Ipsum dolor sit amet.")).reason == \
        "placeholder_text.lorem_ipsum"
    assert step.apply(Document(id="ok", text="A page about Latin: ipsum means itself.")).id == "ok"
    custom = PlaceholderText(PlaceholderTextConfig(phrases=["sample text here"]))
    assert custom.apply(Document(id="c", text="Sample text here, replace me")).reason == "placeholder_text.sample_text_here"


def test_keyword_prefix_check_never_changes_the_answer():
    """The literal-prefix pre-check only skips rules that cannot match: the result equals
    running every regex, also for case variants ``re.IGNORECASE`` equates (ſ/s, İ/i)."""
    import re

    from herd.plugins.curation_steps.keywords import KeywordRules, literal_prefix

    assert literal_prefix("porn(?:o|ography)?") == "porn"
    assert literal_prefix("camgirls?") == "camgirl"
    assert literal_prefix("sex (?:cams?|chat)") == "sex "
    assert literal_prefix("escort|milf") == "" and literal_prefix("(?:a|b)c") == "" and literal_prefix(r"a\.b") == "a"
    rules = ["porn(?:o|ography)?", "sex (?:cams?|chat)", "nude (?:girls|pics)", "milf", "x{3}", "(?:hard|soft)core"]
    texts = ["Watch SEX CAMS now", "ſex cams", "NUDE GİRLS", "nude gİrls", "pornography and porno", "Sussex chat",
             "xxx", "XXX rated", "HARDCORE", "a milf-like", "milfs", "plain text about bees", "SEX\u017fCAMS"]
    fast = KeywordRules(rules, r"(?<![^\W_])", r"(?![^\W_])")
    slow = [re.compile(rf"(?<![^\W_]){r}(?![^\W_])", re.IGNORECASE) for r in rules]
    for text in texts:
        assert fast.matching(text) == [r for r, p in zip(rules, slow) if p.search(text)], text


def test_pii_scanners_find_exactly_what_the_lookbehind_patterns_find():
    """Each PII pattern starts with a character class (fast) and checks its left boundary in
    Python; on random digit soup it finds the same spans as the lookbehind form."""
    import random
    import re

    from herd.plugins.curation_steps.pii import _CHECKS

    octet = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    reference = {
        "email": r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b",
        "card": r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)",
        "ipv4": rf"(?<![\d.])(?:{octet}\.){{3}}{octet}(?![\d.])",
        "phone": r"(?<![\w+])(?:\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]\d{2,4}){2,4}"
                 r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w])",
        "ipv6": r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])",
    }
    pieces = ["192.168.1.1", "256.1.2.3", "01.2.3.4", "1.2.3.4.5", "a@b.co", "x.y+z@ex-ample.org", "@@", "2001:db8::1",
              "::", "fe80::", "4539 1488 0343 6467", "4111-1111-1111-1111", "+44 20 7946 0958", "(212) 555-0199",
              "212-555-0199", "7", "a", "_", ".", ":", "-", " ", "\n", "+"]
    rng = random.Random(0)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
        for kind, pattern in reference.items():
            found = [m.span() for m in _CHECKS[kind][0].finditer(text)]
            assert found == [m.span() for m in re.finditer(pattern, text)], (kind, text)
