"""The curation runner through its public entry points, with small real steps."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from herd.core.errors import ConfigError, InputError, StageError
from herd.plugins.curation.build import build_runner
from herd.lib.documents import read_kept
from herd.plugins.curation.io import read_dropped

def corpus(tmp_path: Path, jsonl) -> list[Path]:
    """Two files; duplicates of one text sit in different files and different shards."""
    a = [{"id": f"a{i}", "text": f"document {i} about topic {i % 3}\ncookie banner text\nbody line {i}"} for i in range(12)]
    b = [{"id": f"b{i}", "text": f"other {i} words\ncookie banner text\nmore body {i}"} for i in range(10)]
    b.append({"id": "b_dup", "text": a[0]["text"]})  # exact duplicate of a0, in the other file
    b.append({"id": "a_dup", "text": a[5]["text"]})
    bad = ["{not json", json.dumps({"text": "no id here at all"}), json.dumps({"id": "e1", "text": "   "})]
    b.append({"id": "h1", "html": "<html><nav>menu</nav><p>a page with enough words in it</p></html>"})
    b.append({"id": "short", "text": "two words"})
    b.append({"id": "boom", "text": "this one says BOOM loudly here"})
    return [jsonl(tmp_path / "in" / "a.jsonl", a), jsonl(tmp_path / "in" / "b.jsonl", b + bad)]


STEPS = ["strip_tags", "min_words", "exact", "explodes", "lines"]


def test_every_record_is_kept_or_dropped_and_counts_conserve(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, STEPS, "curate.shard_size=4", "curate.workers=2")
    funnel = run_curation(app, tmp_path / "out")

    kept = list(read_kept(tmp_path / "out" / "kept"))
    dropped = list(read_dropped(tmp_path / "out" / "dropped"))
    raw_lines = sum(1 for p in inputs for line in p.read_text().splitlines() if line.strip())
    assert funnel["records_in"] == raw_lines == 30
    assert len(kept) + len(dropped) == raw_lines
    assert funnel["kept"]["records"] == len(kept)
    assert funnel["dropped"]["records"] == len(dropped)
    assert funnel["conserved"] is True
    on_disk = json.loads((tmp_path / "out" / "funnel.json").read_text())
    assert on_disk["kept"] == funnel["kept"]
    by_reason = funnel["dropped"]["by_reason"]
    assert by_reason == {
        "read.malformed_json": 1,
        "read.missing_id": 1,
        "read.empty": 1,
        "min_words.too_short": 1,
        "exact.duplicate": 2,
        "explodes.error": 1,
    }
    # each step's records out = records in minus its drops, and feeds the next step
    steps = funnel["steps"]
    assert [s["name"] for s in steps] == ["read"] + STEPS
    for before, after in zip(steps, steps[1:]):
        assert after["records_in"] == before["records_out"]
        assert after["tokens_in"] == before["tokens_out"]
    for step in steps:
        assert step["records_out"] == step["records_in"] - step["dropped"]
    assert steps[-1]["records_out"] == len(kept)


def test_corpus_steps_are_global_across_files_and_shards(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, STEPS, "curate.shard_size=3", "curate.workers=2")
    run_curation(app, tmp_path / "out")
    kept = {d.id: d for d in read_kept(tmp_path / "out" / "kept")}
    dropped = {d["id"]: d for d in read_dropped(tmp_path / "out" / "dropped")}
    # the duplicates of a0 and a5 live in another file and another shard
    assert "a0" in kept and "a5" in kept
    assert dropped["b_dup"]["reason"] == "exact.duplicate" and dropped["a_dup"]["step"] == "exact"
    # "cookie banner text" occurs in 23 documents spread over many shards: removed everywhere
    assert all("cookie banner" not in d.text for d in kept.values())
    assert kept["a3"].text == "document 3 about topic 0\nbody line 3"


def test_what_a_corpus_step_keeps_outlives_the_work_folder(tmp_path, make_app, run_curation, jsonl):
    run_curation(make_app(corpus(tmp_path, jsonl), STEPS), tmp_path / "out")
    assert not (tmp_path / "out" / "_work").exists()
    assert json.loads((tmp_path / "out" / "steps" / "exact" / "summary.json").read_text())["texts"] > 0


def test_dropped_records_say_where_and_why(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, STEPS, "curate.workers=1")
    run_curation(app, tmp_path / "out")
    dropped = list(read_dropped(tmp_path / "out" / "dropped"))
    bad_json = next(d for d in dropped if d["reason"] == "read.malformed_json")
    assert bad_json["stage"] == "curate" and bad_json["step"] == "read"
    assert bad_json["detail"].endswith("b.jsonl:16")
    assert bad_json["source_file"].endswith("b.jsonl")
    assert "{not json" in bad_json["text"]
    boom = next(d for d in dropped if d["id"] == "boom")
    assert boom["reason"] == "explodes.error" and "cannot handle BOOM" in boom["detail"]
    assert boom["text"] == "this one says BOOM loudly here"
    short = next(d for d in dropped if d["id"] == "short")
    assert short["detail"] == "2 words < 3"
    assert set(bad_json) == {"id", "stage", "step", "reason", "detail", "text", "source_file"}


def test_kept_records_carry_scores_and_extracted_text(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, STEPS, "curate.workers=1")
    run_curation(app, tmp_path / "out")
    kept = {d.id: d for d in read_kept(tmp_path / "out" / "kept")}
    page = kept["h1"]
    assert page.text == "menu a page with enough words in it"
    assert page.html is None  # dropped after extraction unless curate.keep_html
    assert page.scores["min_words.words"] == 8.0


def test_parquet_output_holds_the_same_records(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, STEPS, "curate.workers=2", "curate.shard_size=5")
    run_curation(app, tmp_path / "jsonl")
    run_curation(app, tmp_path / "parquet", output_format="parquet")
    as_jsonl = sorted((d.id, d.text, tuple(d.scores.items())) for d in read_kept(tmp_path / "jsonl" / "kept"))
    as_parquet = sorted((d.id, d.text, tuple(d.scores.items())) for d in read_kept(tmp_path / "parquet" / "kept"))
    assert as_jsonl == as_parquet
    assert all(p.suffix == ".parquet" for p in (tmp_path / "parquet" / "kept").iterdir())


def test_step_errors_can_stop_the_run_naming_step_record_and_file(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, ["min_words", "explodes"], "curate.workers=1")
    with pytest.raises(StageError, match=r"step 'explodes' raised on record 'boom' of .*b.jsonl"):
        run_curation(app, tmp_path / "out", on_step_error="raise")


def test_too_large_records_are_dropped_at_read_time(tmp_path, make_app, run_curation, jsonl):
    big = {"id": "big", "text": "word " * 5000}
    path = jsonl(tmp_path / "big.jsonl", [big, {"id": "ok", "text": "small enough document"}])
    app = make_app([path], ["min_words"], "curate.workers=1", "curate.max_document_chars=1000")
    funnel = run_curation(app, tmp_path / "out")
    assert funnel["dropped"]["by_reason"] == {"read.too_large": 1}
    assert [d.id for d in read_kept(tmp_path / "out" / "kept")] == ["ok"]


def test_unknown_step_is_a_config_error_with_a_suggestion(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    # Refused when the config loads, before anything runs (issue 16 item 8).
    with pytest.raises(ConfigError, match=r"curate.steps\[0\] = 'min_word'.*did you mean 'min_words'"):
        make_app(inputs, ["min_word", "exact"])


def test_family_prefix_and_duplicate_step_names(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, ["filters.min_words", "dedupers.exact"], "curate.workers=1")
    funnel = run_curation(app, tmp_path / "out")
    assert [s["name"] for s in funnel["steps"]] == ["read", "min_words", "exact"]
    with pytest.raises(ConfigError, match="twice"):
        make_app(inputs, ["min_words", "filters.min_words"])


def test_missing_input_and_unreadable_file_type_are_input_errors(tmp_path, make_app, run_curation, jsonl):
    app = make_app([tmp_path / "nope.jsonl"], ["min_words"])
    with pytest.raises(InputError, match="nope.jsonl does not exist"):
        run_curation(app, tmp_path / "out")
    (tmp_path / "notes.csv").write_text("hello")
    app = make_app([tmp_path / "notes.csv"], ["min_words"])
    with pytest.raises(InputError, match=r"notes.csv: no source reads this file type"):
        run_curation(app, tmp_path / "out")


def test_resume_skips_finished_shards(tmp_path, make_app, run_curation, jsonl):
    docs = [{"id": f"d{i:02d}", "text": f"plain document number {i}"} for i in range(8)]
    docs.append({"id": "z_fail", "text": "this document will FAIL once"})
    files = [jsonl(tmp_path / "in" / f"{k}.jsonl", docs[k * 3 : k * 3 + 3]) for k in range(3)]
    log_dir = tmp_path / "trace"
    log_dir.mkdir()
    marker = tmp_path / "fail-now"
    marker.write_text("x")
    app = make_app(
        files, ["trace", "exact"], "curate.workers=1",
        f'filters.trace.log_dir="{log_dir}"', f'filters.trace.fail_marker="{marker}"',
    )
    with pytest.raises(StageError, match="interrupted on purpose"):
        run_curation(app, tmp_path / "out", on_step_error="raise")
    seen_first = sorted(line for p in log_dir.iterdir() for line in p.read_text().split())
    assert seen_first == [f"d{i:02d}" for i in range(8)]  # it stopped in file 2, on z_fail
    for p in log_dir.iterdir():
        p.unlink()
    marker.unlink()
    funnel = run_curation(app, tmp_path / "out", resuming=True, on_step_error="raise")
    seen_again = sorted(line for p in log_dir.iterdir() for line in p.read_text().split())
    assert seen_again == ["d06", "d07", "z_fail"]  # only the unfinished shard ran again
    assert funnel["kept"]["records"] == 9 and funnel["conserved"]
    # the funnel still counts the shards done before the interruption
    assert funnel["steps"][1]["records_in"] == 9
    assert not (tmp_path / "out" / "_work").exists()


def test_resume_refuses_an_attempt_with_other_settings(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, ["min_words"], "curate.workers=1")
    out = tmp_path / "out"
    import dataclasses

    cfg = app.config.section("curate")
    runner = build_runner(app.registry, app.config, cfg, out, log=app.log)
    runner.keep_work = True
    runner.run()
    changed = dataclasses.replace(cfg, shard_size=7)
    with pytest.raises(InputError, match="cannot resume"):
        build_runner(app.registry, app.config, changed, out, log=app.log, resuming=True).run()


def test_kept_files_are_gzip_jsonl_with_id_and_text(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    app = make_app(inputs, ["min_words"], "curate.workers=1")
    run_curation(app, tmp_path / "out")
    first = sorted((tmp_path / "out" / "kept").iterdir())[0]
    assert first.name.endswith(".jsonl.gz")
    record = json.loads(gzip.open(first, "rt").readline())
    assert {"id", "text", "scores"} <= set(record)


def test_corpus_step_with_sketch_observes_parallel_sketches(tmp_path, make_app, run_curation, jsonl):
    inputs = corpus(tmp_path, jsonl)
    inputs.append(jsonl(tmp_path / "in" / "c.jsonl", [{"id": "sf", "text": "this text will SKETCHFAIL in the sketch"}]))
    steps = ["strip_tags", "min_words", "sketch_exact", "lines"]
    app = make_app(inputs, steps, "curate.shard_size=4", "curate.workers=2")
    funnel = run_curation(app, tmp_path / "out")
    run_curation(make_app(inputs, ["strip_tags", "min_words", "exact", "lines"], "curate.workers=1"), tmp_path / "ref")
    kept = sorted((d.id, d.text) for d in read_kept(tmp_path / "out" / "kept"))
    reference = sorted((d.id, d.text) for d in read_kept(tmp_path / "ref" / "kept") if d.id != "sf")
    assert kept == reference  # same decisions; "sf" is dropped by the failing sketch only
    assert funnel["dropped"]["by_reason"]["sketch_exact.duplicate"] == 2
    assert funnel["dropped"]["by_reason"]["sketch_exact.error"] == 1
    assert funnel["conserved"]
    steps_out = funnel["steps"]
    for before, after in zip(steps_out, steps_out[1:]):
        assert after["records_in"] == before["records_out"]
        assert after["tokens_in"] == before["tokens_out"]
    dedup = next(s for s in steps_out if s["name"] == "sketch_exact")
    assert dedup["records_out"] == dedup["records_in"] - dedup["dropped"] and "sketch_seconds" in dedup
    failed = next(d for d in read_dropped(tmp_path / "out" / "dropped") if d["id"] == "sf")
    assert failed["step"] == "sketch_exact" and "cannot sketch this" in failed["detail"]


def test_a_folder_mixing_files_and_a_saved_hf_dataset(tmp_path, make_app, run_curation, jsonl):
    import datasets

    root = tmp_path / "mixed"
    jsonl(root / "a.jsonl", [{"id": "j1", "text": "a json lines document here"}])
    datasets.Dataset.from_list([{"id": "h1", "text": "a dataset row with words"}]).save_to_disk(str(root / "ds"))
    (root / "README.md").write_text("not an input")  # files no source reads are reported, not read
    app = make_app([root], ["min_words"], "curate.workers=1")
    funnel = run_curation(app, tmp_path / "out")
    assert sorted((i["source"], i["path"].rsplit("/", 1)[-1]) for i in funnel["inputs"]) == [("hf_disk", "ds"), ("jsonl", "a.jsonl")]
    assert funnel["unread_inputs"] == [{"path": str(root / "README.md"), "reason": "no source reads this file type"}]
    assert sorted(d.id for d in read_kept(tmp_path / "out" / "kept")) == ["h1", "j1"]


def test_glob_patterns_expand_and_a_pattern_matching_nothing_is_an_error(tmp_path, make_app, run_curation, jsonl):
    for name in ("part-1.jsonl", "part-2.jsonl", "other.jsonl"):
        jsonl(tmp_path / "in" / name, [{"id": name, "text": f"the words of {name} here"}])
    app = make_app([str(tmp_path / "in" / "part-*.jsonl")], ["min_words"], "curate.workers=1")
    funnel = run_curation(app, tmp_path / "out")
    assert sorted(i["path"].rsplit("/", 1)[-1] for i in funnel["inputs"]) == ["part-1.jsonl", "part-2.jsonl"]
    app = make_app([str(tmp_path / "in" / "nothing-*.jsonl")], ["min_words"])
    with pytest.raises(InputError, match=r"nothing-\*.jsonl matches no file"):
        run_curation(app, tmp_path / "out2")


def test_max_records_per_input_reads_the_first_records_of_every_file(tmp_path, make_app, run_curation, jsonl):
    a = jsonl(tmp_path / "in" / "a.jsonl", [{"id": f"a{i}", "text": "some words in here"} for i in range(5)])
    b = jsonl(tmp_path / "in" / "b.jsonl", ["{broken", {"id": "b1", "text": "some words in here"},
                                            {"id": "b2", "text": "some words in here"}])
    app = make_app([a, b], ["min_words"], "curate.workers=1", "curate.max_records_per_input=2")
    funnel = run_curation(app, tmp_path / "out")
    assert sorted(d.id for d in read_kept(tmp_path / "out" / "kept")) == ["a0", "a1", "b1"]
    assert funnel["records_in"] == 4 and funnel["conserved"] and funnel["max_records_per_input"] == 2
    assert funnel["dropped"]["by_reason"] == {"read.malformed_json": 1}


def test_plugin_default_filters_run_after_the_configured_steps(tmp_path, make_app, run_curation, jsonl):
    from herd.core.hookspecs import hookimpl
    from herd.core.records import Drop

    class NoBees:
        name = "no_bees"

        def __init__(self, config=None):
            pass

        def apply(self, doc):
            return Drop("no_bees.bees", "mentions bees") if "bees" in doc.text else doc

    class DefaultFilterPlugin:
        @hookimpl
        def herd_register_filters(self, register):
            register("no_bees", NoBees, default=True)

    path = jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "bees"}, {"id": "2", "text": "many busy bees here"},
                                         {"id": "3", "text": "a text without insects"}])
    plugins = {"d": DefaultFilterPlugin()}
    funnel = run_curation(make_app([path], ["min_words"], "curate.workers=1", plugins=plugins), tmp_path / "out")
    assert [s["name"] for s in funnel["steps"]] == ["read", "min_words", "no_bees"]
    assert funnel["dropped"]["by_reason"] == {"min_words.too_short": 1, "no_bees.bees": 1}
    off = make_app([path], ["min_words"], "curate.workers=1", "curate.plugin_default_steps=false", plugins=plugins)
    assert [s["name"] for s in run_curation(off, tmp_path / "off")["steps"]] == ["read", "min_words"]
