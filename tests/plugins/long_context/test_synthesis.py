"""The long_context synthesizer: every kind's answers read back from the row's own context,
rows within their bucket in the tokenizer's tokens, seeded, and bad input named."""

import gzip
import json
import math
import re

import pytest

from herd.core.errors import ConfigError, InputError
from herd.lib.chat.format import render_text
from herd.plugins.long_context.sft_config import LongContextSFTConfig
from herd.plugins.long_context.synthesis import LongContextSynthesizer

SECTION = re.compile(r"Section (\d+)\n(.*)")


def rows(tokenizer_dir, tmp_path, budget=100, **settings):
    cfg = LongContextSFTConfig(tokenizer=str(tokenizer_dir), **settings)
    return list(LongContextSynthesizer(cfg).synthesize(budget, tmp_path / "work"))


def sections(user_text: str) -> dict[int, str]:
    document = user_text.rsplit("\n\n", 1)[0]
    return {int(m.group(1)): m.group(2) for m in SECTION.finditer(document)}


def test_chunk_questions_are_answered_by_the_document(tokenizer_dir, tmp_path):
    out = rows(tokenizer_dir, tmp_path, kinds=["chunk_qa"], lengths=[1024, 2048], min_rows=12)
    assert len(out) == 12
    styles = set()
    for row in out:
        user, answer = row.messages[0].content, row.messages[1].content
        found = sections(user)
        question = user.rsplit("Question: ", 1)[1]
        quoted = re.search(r'"(.*)"\?$', question).group(1)
        styles.add(row.metadata["question_style"])
        if question.startswith("In section"):
            k = int(re.match(r"In section (\d+)", question).group(1))
            assert found[k].count(quoted) == 1
            assert f"{quoted} {answer}" in found[k]
        else:
            k = int(re.fullmatch(r"Section (\d+)\.", answer).group(1))
            assert sum(text.count(quoted) for text in found.values()) == 1
            assert quoted in found[k]
    assert styles == {"next_sentence", "locate"}


def test_summaries_are_first_sentences_and_word_sections_are_exact(tokenizer_dir, tmp_path):
    out = rows(tokenizer_dir, tmp_path, kinds=["summary"], lengths=[2048], min_rows=4)
    assert len(out) == 4
    for row in out:
        found = sections(row.messages[0].content)
        per_section = dict(re.findall(r"Section (\d+): (.*)", row.messages[1].content))
        assert sorted(int(k) for k in per_section) == sorted(found)
        for k, summary in per_section.items():
            assert found[int(k)].startswith(summary)
        overall = row.messages[3].content
        chosen = row.metadata["summary_sections"]
        assert overall == " ".join(per_section[str(k)] for k in chosen)
        assert len(chosen) == math.ceil(math.sqrt(len(found)))
        word = re.search(r'"(\w+)"', row.messages[4].content).group(1)
        truth = [k for k, text in sorted(found.items()) if re.search(rf"\b{word}\b", text, re.IGNORECASE)]
        assert [int(n) for n in re.findall(r"\d+", row.messages[5].content)] == truth
        assert 0 < len(truth) < len(found)


def test_repository_rows_list_the_shown_importers(tokenizer_dir, tmp_path):
    out = rows(tokenizer_dir, tmp_path, kinds=["repo"], lengths=[512, 4096], min_rows=4)
    assert len(out) == 4
    for row in out:
        meta = row.metadata
        context = row.messages[0].content
        short = meta["removed_module"].rsplit(".", 1)[-1]
        blocks = [b for b in context.rsplit("\n\nQuestion:", 1)[0].split("\n\n")]
        importers = sorted(b.split("\n", 1)[0][2:-3].replace("/", ".").removesuffix(".__init__")
                           for b in blocks if re.search(rf"\b{short}\b", b.split("\n", 1)[1]))
        assert meta["dependents"] and set(meta["dependents"]) <= set(importers)
        assert f"Modules that import {meta['removed_module']}: {', '.join(meta['dependents'])}." in \
            row.messages[1].content
        assert all(name in context for name in meta["provides"])


def test_rows_fit_their_bucket_and_carry_the_capability(tokenizer_dir, counter, tmp_path):
    out = rows(tokenizer_dir, tmp_path, lengths=[512, 1024], min_rows=9)
    assert {r.category for r in out} == {"chunk_qa", "summary", "repo"}
    for row in out:
        assert row.capability == "long_context"
        tokens = counter.count(render_text(row.messages, add_generation_prompt=False))
        assert tokens == row.metadata["tokens"] <= row.metadata["bucket"]
    counts = json.loads((tmp_path / "work" / "long_context.json").read_text())
    assert counts["planned"] == 9 and counts["kept"] + counts["dropped"] == 9


def test_rows_per_call_follow_the_share(tokenizer_dir, tmp_path):
    assert len(rows(tokenizer_dir, tmp_path, lengths=[2048], share=0.05, min_rows=1, kinds=["chunk_qa"],
                    budget=100)) == 5
    assert rows(tokenizer_dir, tmp_path, lengths=[2048], budget=0) == []


def test_same_seed_same_rows_other_seed_other_rows(tokenizer_dir, tmp_path):
    a, b = (rows(tokenizer_dir, tmp_path / str(i), lengths=[1024], min_rows=6, seed=5) for i in (1, 2))
    c = rows(tokenizer_dir, tmp_path / "3", lengths=[1024], min_rows=6, seed=6)
    assert a == b
    assert [r.messages for r in a] != [r.messages for r in c]


def test_lengths_are_cut_to_the_models_context(tokenizer_dir, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    for name in ("tokenizer.json",):
        (model / name).write_bytes((tokenizer_dir / name).read_bytes())
    (model / "config.json").write_text(json.dumps({"max_position_embeddings": 700}))
    out = rows(model, tmp_path, lengths=[512, 4096, 8192], kinds=["chunk_qa"], min_rows=4)
    assert {r.metadata["bucket"] for r in out} == {512, 700}
    assert json.loads((tmp_path / "work" / "long_context.json").read_text())["buckets"] == [512, 700]


def test_documents_come_from_the_given_corpus(tokenizer_dir, tmp_path):
    corpus = tmp_path / "kept.jsonl.gz"
    texts = [f"Report {i} opens the archive. The clerk counted {i * 7} boxes. Nobody asked why. "
             f"The lamp in room {i} stayed on." for i in range(40)]
    with gzip.open(corpus, "wt", encoding="utf-8") as handle:
        for text in texts:
            handle.write(json.dumps({"id": "x", "text": text}) + "\n")
    out = rows(tokenizer_dir, tmp_path, documents=[str(corpus)], kinds=["chunk_qa", "summary"], lengths=[1024],
               min_rows=4)
    assert out and all("Report" in r.messages[0].content and "essay" not in r.metadata["documents"] for r in out)


def test_a_bucket_too_small_drops_rows_with_the_reason(tokenizer_dir, tmp_path):
    assert rows(tokenizer_dir, tmp_path, lengths=[40], min_rows=3) == []
    dropped = [json.loads(line) for line in (tmp_path / "work" / "long_context_dropped.jsonl").read_text().splitlines()]
    assert {d["reason"] for d in dropped} == {"bucket_too_small"} and len(dropped) == 3


def test_bad_settings_are_named(tokenizer_dir, tmp_path):
    with pytest.raises(ConfigError, match="kinds: unknown essays"):
        LongContextSynthesizer(LongContextSFTConfig(kinds=["essays"]))
    with pytest.raises(ConfigError, match="needs a tokenizer"):
        list(LongContextSynthesizer(LongContextSFTConfig()).synthesize(10, tmp_path))
    with pytest.raises(ConfigError, match="'no_such_package_zz' is not installed"):
        rows(tokenizer_dir, tmp_path, kinds=["repo"], packages=["no_such_package_zz"], lengths=[1024])
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{}")
    with pytest.raises(ConfigError, match=f"tokenizer {bad} does not load"):
        list(LongContextSynthesizer(LongContextSFTConfig(tokenizer=str(bad))).synthesize(10, tmp_path))
    with pytest.raises(InputError, match="missing.jsonl does not exist"):
        rows(tokenizer_dir, tmp_path, kinds=["chunk_qa"], documents=[str(tmp_path / "missing.jsonl")])


def test_the_plugin_registers_the_synthesizer_for_its_capability():
    from herd.core.plugins import load_plugins

    component = load_plugins(["long_context"], entry_points=False).registry.get("synthesizers", "long_context")
    assert component.options["capability"] == "long_context"
    assert component.options["max_len"] == 131072
    assert component.config is LongContextSFTConfig
