"""The language-match verifier rejects responses in the wrong language, with the reason."""

from herd.core.records import ChatMessage, SFTRow
from herd.plugins.multilingual.language_match import LanguageMatch


def row(prompt, response, **kw):
    return SFTRow("r", [ChatMessage("user", prompt), ChatMessage("assistant", response)], **kw)


def verdicts(identifier, rows):
    judge = LanguageMatch(identifier=identifier)
    return [{s.signal: s for s in scores} for scores in judge.score(rows)]


def test_wrong_language_is_rejected_with_reason(identifier):
    out = verdicts(identifier, [
        row("Quelle est la capitale du Canada ?", "La capitale du Canada est Ottawa, dans l'Ontario."),
        row("Quelle est la capitale du Canada ?", "The capital of Canada is Ottawa, in Ontario."),
        row("中国最长的河流是哪一条？", "中国最长的河流是长江，全长约六千三百公里。"),
        row("中国最长的河流是哪一条？", "Der längste Fluss Chinas ist der Jangtsekiang."),
    ])
    assert out[0]["pass"].value == 1.0
    assert out[1]["pass"].value == 0.0
    assert out[1]["pass"].reason.startswith("wrong_language: response is in 'en' (")
    assert out[1]["pass"].reason.endswith("but the prompt asks for 'fr'")
    assert out[2]["pass"].value == 1.0
    assert "'de'" in out[3]["pass"].reason and "'zh'" in out[3]["pass"].reason


def test_requested_language_code_and_short_answers(identifier):
    out = verdicts(identifier, [
        # A translation request: the answer must be in the target language, not the prompt's.
        row("Traduis en anglais : « Le chat dort sur le canapé. »", "The cat is sleeping on the sofa.",
            metadata={"target_language": "en"}),
        row("Traduis en anglais : « Le chat dort sur le canapé. »", "Le chat dort sur le canapé, évidemment.",
            metadata={"target_language": "en"}),
        row("Combien font 17 fois 3 ?", "51"),  # too short to identify: passes
        row("Écris une fonction Python.", "```python\ndef add(a, b):\n    return a + b\n```\nVoici une fonction qui additionne deux nombres."),
        row("Hola", "Hello there, nice to meet you my friend.", language="es"),  # row.language wins over LID
    ])
    assert out[0]["pass"].value == 1.0
    assert out[1]["pass"].value == 0.0 and "'fr'" in out[1]["pass"].reason
    assert out[2]["pass"].value is None and "too short" in out[2]["pass"].reason  # not applicable
    assert out[3]["pass"].value == 1.0  # code is ignored, the prose is French
    assert out[4]["pass"].value == 0.0


def test_degenerate_text_is_not_counted_as_any_language(identifier):
    """A tiny model's "e e e e ..." spreads low confidences over every language; without
    the distinct-word and confidence rules the runner-up rule would pass it as French."""
    prompt = "Quel est le plus long fleuve de France ?"
    out = verdicts(identifier, [row(prompt, "    e e e e e e e e e e e e e e e "),
                                row(prompt, "la la la la la la la la la la"),
                                row(prompt, "Je vais bien, merci beaucoup."),
                                row("一年有多少个月？", "一年有十二个月。")])
    assert out[0]["pass"].value is None and "distinct words" in out[0]["pass"].reason
    assert out[1]["pass"].value is None
    assert out[2]["pass"].value == 1.0
    assert out[3]["pass"].value == 1.0
