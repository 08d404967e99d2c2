"""Prompts, rejection sampling in the prompt's language, round-trip translation, native data."""

import json

import pytest

from herd.core.errors import ConfigError, InputError
from herd.core.records import ChatMessage, SFTRow
from herd.plugins.multilingual.config import MultilingualPromptsConfig, RoundTripConfig
from herd.plugins.multilingual.native import read_native
from herd.plugins.multilingual.prompts import MultilingualPrompts, RoundTripTranslation, read_prompts
from herd.plugins.multilingual.translate import chrf, translate_row


def test_shipped_prompts_cover_three_languages_besides_english():
    prompts = read_prompts()
    by_language = {}
    for p in prompts:
        by_language.setdefault(p.language, []).append(p)
    assert len(set(by_language) - {"en"}) >= 3
    assert all(any(p.reference for p in group) for lang, group in by_language.items())
    assert {p.split for p in prompts} == {"train", "eval"}


ANSWERS = {
    "fr-01": ["Seventeen times three equals fifty-one, so the answer is 51.", "17 fois 3 font 51, car 17 + 17 + 17 = 51."],
    "fr-02": ["La capitale du Canada est Toronto, une grande ville.", "La capitale du Canada est Ottawa, en Ontario."],
}


def script(prompt, i):
    for pid, answers in ANSWERS.items():
        if prompt.startswith(next(p.prompt for p in read_prompts() if p.id == pid)):
            return answers[i % len(answers)]
    return "Ceci est une réponse en français, sans rapport avec la question posée."


def test_rejection_sampling_keeps_the_first_sample_in_the_right_language(scripted, tmp_path, make_services):
    cfg = MultilingualPromptsConfig(languages=["fr"], samples_per_prompt=2, builtin_native=False)
    synth = MultilingualPrompts(cfg, make_services(scripted(script)))
    rows = list(synth.synthesize(budget=3, workdir=tmp_path))
    by_prompt = {r.metadata["prompt_id"]: r for r in rows}
    assert by_prompt["fr-01"].messages[-1].content.startswith("17 fois 3")
    assert by_prompt["fr-01"].metadata["samples_tried"] == 2
    assert by_prompt["fr-02"].messages[-1].content.endswith("Ottawa, en Ontario.")
    rejected = [json.loads(l) for l in (tmp_path / "multilingual_rejected.jsonl").read_text().splitlines()]
    reasons = {(r["prompt_id"], r["reason"].split(":")[0]) for r in rejected}
    assert ("fr-01", "wrong_language") in reasons and ("fr-02", "reference_missing") in reasons
    assert len(rows) == 3 and all(r.capability == "multilingual" and r.language == "fr" for r in rows)


def test_without_generator_prompts_only_and_native_data_first(tmp_path):
    native = tmp_path / "native.jsonl"
    native.write_text(json.dumps({"id": "n1", "language": "de", "messages": [
        {"role": "user", "content": "Wie geht's?"}, {"role": "assistant", "content": "Gut, danke!"}]}) + "\n")
    synth = MultilingualPrompts(MultilingualPromptsConfig(languages=["de", "zh"], native_data=[str(native)],
                                                          builtin_native=False))
    rows = list(synth.synthesize(budget=100, workdir=tmp_path))
    assert rows[0].id == "n1" and rows[0].metadata["native"] is True and rows[0].metadata["translated"] is False
    prompt_rows = rows[1:]
    assert {r.language for r in prompt_rows} == {"de", "zh"}
    assert all(r.metadata["prompt_only"] and len(r.messages) == 1 for r in prompt_rows)
    assert len(prompt_rows) == 12  # the train split of two languages


def test_shipped_native_conversations_are_in_their_language(identifier, tmp_path):
    synth = MultilingualPrompts(MultilingualPromptsConfig(languages=["fr", "de", "es", "zh"]))
    native = [r for r in synth.synthesize(budget=1000, workdir=tmp_path) if r.metadata.get("native")]
    assert {r.language for r in native} == {"fr", "de", "es", "zh"} and len(native) >= 4 * 8
    assert all(r.metadata["translated"] is False and r.capability == "multilingual" for r in native)
    texts = [m.content for r in native for m in r.messages]
    languages = [r.language for r in native for _ in r.messages]
    assert [d.language for d in identifier.detect_many(texts)] == languages
    only_fr = MultilingualPrompts(MultilingualPromptsConfig(languages=["fr"]))
    assert {r.language for r in only_fr.synthesize(budget=1000, workdir=tmp_path)} == {"fr"}


def test_native_import_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
                   '{"messages": [{"role": "robot", "content": "beep"}]}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: message 0"):
        list(read_native(bad))
    bad.write_text("not json\n")
    with pytest.raises(InputError, match=r"bad.jsonl:1: not valid JSON"):
        list(read_native(bad))


def test_chrf():
    assert chrf("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    assert chrf("the cat sat on the mat", "the cat is on the mat") > 0.5
    assert chrf("completely different words", "the cat sat on the mat") < 0.3
    assert chrf("", "x") == 0.0


# A tiny "translator": a phrase table both ways; unknown text comes back unchanged.
TABLE = {
    ("en", "fr"): {"What is the capital of France?": "Quelle est la capitale de la France ?",
                   "The capital of France is Paris.": "La capitale de la France est Paris.",
                   "Name a colour.": "Nomme une couleur."},
    ("fr", "en"): {"Quelle est la capitale de la France ?": "What is the capital of France?",
                   "La capitale de la France est Paris.": "The capital of France is Paris.",
                   "Nomme une couleur.": "Give me any word."},
}
NAMES = {"English": "en", "French": "fr"}


def translator(prompt, i):
    head, text = prompt.split("\n\n", 1)
    source = NAMES[head.split(" from ")[1].split(" into ")[0]]
    target = NAMES[head.split(" into ")[1].split(".")[0]]
    return TABLE[(source, target)].get(text, text)


def en_row(rid, prompt, answer):
    return SFTRow(rid, [ChatMessage("user", prompt), ChatMessage("assistant", answer)], metadata={"native": True})


def test_translation_kept_only_when_round_trip_passes(scripted, identifier):
    gen = scripted(translator)
    ok = translate_row(en_row("a", "What is the capital of France?", "The capital of France is Paris."), "fr", gen, identifier)
    assert ok.row is not None and ok.row.metadata["translated"] is True and "native" not in ok.row.metadata
    assert ok.row.language == "fr" and ok.row.messages[1].content == "La capitale de la France est Paris."
    drift = translate_row(en_row("b", "Name a colour.", "The capital of France is Paris."), "fr", gen, identifier)
    assert drift.row is None and drift.reason.startswith("round_trip_failed")
    untranslated = translate_row(en_row("c", "Please describe the weather in London today.", "It is raining heavily."),
                                 "fr", gen, identifier)
    assert untranslated.row is None and untranslated.reason.startswith("wrong_language")


def test_round_trip_synthesizer(scripted, tmp_path, make_services):
    source = tmp_path / "en.jsonl"
    source.write_text("\n".join(json.dumps({"id": rid, "messages": [
        {"role": "user", "content": q}, {"role": "assistant", "content": a}]}) for rid, q, a in [
        ("a", "What is the capital of France?", "The capital of France is Paris."),
        ("b", "Name a colour.", "The capital of France is Paris.")]) + "\n")
    synth = RoundTripTranslation(RoundTripConfig(source_path=str(source), languages=["fr"]),
                                 make_services(scripted(translator)))
    rows = list(synth.synthesize(10, tmp_path))
    assert [r.id for r in rows] == ["a.fr"]
    assert "round_trip_failed" in (tmp_path / "translation_rejected.jsonl").read_text()
    with pytest.raises(ConfigError, match="generation backend"):
        RoundTripTranslation(RoundTripConfig(source_path=str(source)), None)
    summary = json.loads((tmp_path / "round_trip_translation.json").read_text())
    assert summary["kept"] == 1 and summary["rejected"] == 1


def test_round_trip_without_source_yields_nothing_and_says_why(tmp_path, make_services):
    """Every synthesizer of an active plugin is built by post-training: translation must
    not need a source to exist."""
    synth = RoundTripTranslation(RoundTripConfig(), None)
    assert list(synth.synthesize(10, tmp_path)) == []
    assert "no source_path" in json.loads((tmp_path / "round_trip_translation.json").read_text())["note"]
    with pytest.raises(InputError, match="not a file"):
        RoundTripTranslation(RoundTripConfig(source_path=str(tmp_path / "missing.jsonl")), make_services())
