"""The Ray executor gives the same output as the local one (local Ray cluster, 2 CPUs)."""

from __future__ import annotations

import sys

import pytest

from herd.lib.documents import read_kept
from herd.plugins.curation.io import read_dropped

ray = pytest.importorskip("ray")


def snapshot(out):
    kept = sorted((d.id, d.text, tuple(sorted(d.scores.items()))) for d in read_kept(out / "kept"))
    dropped = sorted((d["id"], d["step"], d["reason"]) for d in read_dropped(out / "dropped"))
    return kept, dropped


@pytest.mark.slow
def test_ray_and_local_executors_give_the_same_output(tmp_path, make_app, run_curation, jsonl):
    import ray.cloudpickle

    # 40 distinct texts, each 3 times in different files: 80 exact duplicates
    records = [{"id": f"d{i:03d}", "text": f"shared header line\nbody of document {i % 40} here"} for i in range(120)]
    records += ["{broken", {"id": "tiny", "text": "hi"}, {"id": "h", "html": "<p>some html words here</p>"}]
    files = [jsonl(tmp_path / "in" / f"{k}.jsonl", records[k::3]) for k in range(3)]
    app = make_app(files, ["strip_tags", "min_words", "exact", "lines"], "curate.shard_size=10",
                   "dedupers.lines.max_repeats=5")
    local = run_curation(app, tmp_path / "local", executor="local", workers=2)

    # the test's steps live in this test folder, which Ray workers cannot import: ship them by value
    test_module = sys.modules[app.registry.get("filters", "min_words").factory.__module__]
    ray.cloudpickle.register_pickle_by_value(test_module)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_curation(app, tmp_path / "ray", executor="ray")
    finally:
        ray.shutdown()
    assert remote["executor"] == "ray" and local["executor"] == "local"
    assert snapshot(tmp_path / "ray") == snapshot(tmp_path / "local")
    for a, b in zip(local["steps"], remote["steps"]):
        assert {k: a[k] for k in ("name", "records_in", "records_out", "tokens_out", "drops")} == \
               {k: b[k] for k in ("name", "records_in", "records_out", "tokens_out", "drops")}
    assert remote["kept"]["records"] > 0 and remote["dropped"]["by_reason"]["exact.duplicate"] == 80
