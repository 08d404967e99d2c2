"""Issue 15 item 6: `herd curate` with the default steps keeps the good pages of the
labelled check set (tests/data/curation_check: real-looking pages in nine languages) and
still drops its junk, each drop naming the rule. docs/curation.md shows the same run's
rates per language and per kind of junk (regenerate with score.py --write-doc)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

CHECK = Path(__file__).resolve().parents[2] / "data" / "curation_check"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"curation_check_{name}", CHECK / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_shipped_pages_are_what_the_generator_writes(tmp_path):
    good, junk = _module("make_pages").build(tmp_path)
    assert good >= 60 and junk >= 40
    for name in ("pages.jsonl", "labels.jsonl"):
        assert (tmp_path / name).read_bytes() == (CHECK / name).read_bytes(), \
            f"{name} is stale: run python tests/data/curation_check/make_pages.py"
    labels = [json.loads(line) for line in (CHECK / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    languages = {l["language"] for l in labels if l["expected"] == "keep"}
    assert {"en", "de", "fr", "pt", "id", "ru", "ko", "ja"} <= languages
    assert {l["kind"] for l in labels if l["expected"] == "drop"} == {
        "spam", "keyword_stuffing", "link_farm", "boilerplate_only", "repeated_text", "adult_spam",
        "lorem_ipsum", "error_page"}


@pytest.mark.slow
def test_curate_keeps_the_good_pages_and_drops_the_junk(tmp_path):
    score = _module("score")
    score.run_curate(tmp_path / "run")
    result = score.score(tmp_path / "run")
    assert result.good_kept >= 0.95, score.markdown(result)
    assert result.junk_dropped >= 0.95, score.markdown(result)
    for language, rows in result.by(result.good, "language").items():
        assert sum(o.detected_language == language for o in rows) == len(rows), f"language ID on {language} pages"
    for o in result.junk:
        if not o.kept:  # the reason names the step and its rule
            step, _, rule = o.reason.partition(".")
            assert step and rule, o
