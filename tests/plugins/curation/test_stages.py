"""The curate and mix stages through the core pipeline, and the curate command."""

from __future__ import annotations

import json

from herd.lib.documents import read_kept
from herd.plugins.curation.io import read_dropped


def docs(prefix: str, source: str, n: int) -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": f"{source} text number {i} with words", "source": source} for i in range(n)]


def test_curate_then_mix_in_a_run_directory(tmp_path, make_app, jsonl):
    path = jsonl(tmp_path / "in.jsonl", docs("a", "a", 5) + docs("b", "b", 4) + ["{oops"])
    app = make_app([path], ["min_words", "exact"], 'mix.mixer="half"', "mix.shard_size=3")
    run_dir = app.run_dir(tmp_path / "run")
    outcomes = app.run_pipeline(run_dir, stages=["curate", "mix"])
    assert [(o.stage, o.status) for o in outcomes] == [("curate", "ran"), ("mix", "ran")]
    curate_dir = run_dir.stage_dir("curate")
    funnel = json.loads((curate_dir / "funnel.json").read_text())
    assert funnel["records_in"] == 10 and funnel["kept"]["records"] == 9
    manifest = outcomes[0].manifest
    assert manifest["counts"]["kept"] == 9 and manifest["counts"]["dropped"] == 1
    assert "seconds.min_words" in manifest["metrics"]
    assert manifest["counts"]["dropped.read"] == 1 and manifest["counts"]["out.exact"] == 9
    assert not any(name.startswith("_work") for name in manifest["outputs"])

    mix_dir = run_dir.stage_dir("mix")
    mixed = list(read_kept(mix_dir / "mixed"))
    # the mixer keeps source a twice and drops b; copies are spread (all first copies first)
    assert [d.id for d in mixed] == [f"a{i}" for i in range(5)] + [f"a{i}#1" for i in range(5)]
    report = json.loads((mix_dir / "mix.json").read_text())
    assert report["documents_in"] == 9 and report["documents_out"] == 10
    assert report["target"] == {"a": 1.0} and report["achieved"] == {"a": 1.0}
    assert len(list((mix_dir / "mixed").iterdir())) == 4  # 10 documents, 3 per file

    again = app.run_pipeline(run_dir, stages=["curate", "mix"])
    assert [o.status for o in again] == ["cached", "cached"]


def test_curate_command_writes_kept_dropped_and_funnel(tmp_path, jsonl, capsys):
    from herd.cli import main

    path = jsonl(tmp_path / "in.jsonl", docs("a", "a", 4) + ["not json", json.dumps({"id": "x"})])
    out = tmp_path / "out"
    code = main(["curate", "--input", str(path), "--output", str(out), "--steps", "", "--format", "parquet",
                 "--workers", "1", "--set", "curate.progress=false"])
    assert code == 0
    assert sorted(d.id for d in read_kept(out / "kept")) == ["a0", "a1", "a2", "a3"]
    assert sorted(d["reason"] for d in read_dropped(out / "dropped")) == ["read.empty", "read.malformed_json"]
    funnel = json.loads((out / "funnel.json").read_text())
    assert funnel["conserved"] and funnel["records_in"] == 6
    assert json.loads(capsys.readouterr().out)["kept"]["records"] == 4


def test_curate_command_reports_a_missing_input(tmp_path, capsys):
    from herd.cli import main

    code = main(["curate", "--input", str(tmp_path / "missing"), "--output", str(tmp_path / "o"), "--steps", ""])
    assert code == 5
    assert "missing does not exist" in capsys.readouterr().err


def test_default_input_is_the_builtin_corpus():
    from herd.plugins.curation.config import CurateConfig
    from herd.plugins.curation.inputs import resolve_path

    path = resolve_path(CurateConfig().inputs[0])
    assert path.is_dir() and any(path.iterdir())
