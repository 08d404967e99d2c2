"""The default pipeline gives the same result in every process: two `curate` runs on the
built-in corpus with different hash salts (PYTHONHASHSEED) and worker counts keep and drop
the same records for the same reasons, and write the same funnel (timings aside)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from herd.lib.documents import read_kept
from herd.plugins.curation.io import read_dropped

REPO = Path(__file__).resolve().parents[3]

# Two 2-grams occur six times each: "ab cd" (5 characters) and "extraordinarily
# incomprehensibilities" (37). Which one is "the most frequent" decides whether the top-2-gram
# rule drops the document; picking by Python's salted ``hash`` made that differ between runs.
_WORDS = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
         "seventeen eighteen".split()
TIE = " ".join(f"ab cd {_WORDS[3 * i]} extraordinarily incomprehensibilities {_WORDS[3 * i + 1]} {_WORDS[3 * i + 2]}"
               for i in range(6))


def _curate(inputs: list[Path], out: Path, seed: str, workers: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), "curate", "--input", *map(str, inputs), "--output", str(out),
         "--workers", str(workers)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if not k.endswith("seconds") and k != "workers"}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _outputs(out: Path):
    kept = sorted((d.id, d.text, d.domain, json.dumps(d.scores, sort_keys=True), json.dumps(d.metadata, sort_keys=True))
                  for d in read_kept(out / "kept"))
    dropped = sorted((d["id"], d["step"], d["reason"], d["detail"]) for d in read_dropped(out / "dropped"))
    funnel = _without_timings(json.loads((out / "funnel.json").read_text()))
    return kept, dropped, funnel


@pytest.mark.slow
def test_two_runs_with_different_hash_seeds_give_identical_outputs(tmp_path):
    tie = tmp_path / "tie.jsonl"
    tie.write_text(json.dumps({"id": "tie", "text": TIE}) + "\n")
    inputs = [REPO / "data" / "corpus", tie]
    # both at once (each alone is mostly one process), with other workers counts too
    runs = [_curate(inputs, tmp_path / "a", "1", 2), _curate(inputs, tmp_path / "b", "2", 1)]
    for run in runs:
        _, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr[-3000:]
    kept_a, dropped_a, funnel_a = _outputs(tmp_path / "a")
    kept_b, dropped_b, funnel_b = _outputs(tmp_path / "b")
    assert kept_a == kept_b
    assert dropped_a == dropped_b
    assert funnel_a == funnel_b
    assert funnel_a["conserved"] and funnel_a["records_in"] == 1356
    # every built-in filter and deduper removes something from the built-in corpus
    dropped_by = {step["name"]: step["dropped"] for step in funnel_a["steps"]}
    for name in ("url_blocklist", "url_dedup", "adult_keywords", "length", "gopher_repetition", "gopher_quality",
                 "dirty_words", "exact_dedup", "minhash_dedup", "token_kl"):
        assert dropped_by[name] > 0, name
    docs = list(read_kept(tmp_path / "a" / "kept"))
    assert any(d.metadata.get("pii") for d in docs)  # redacted, not dropped
    assert any(d.metadata.get("line_dedup.removed_lines") for d in docs)
    assert {d.domain for d in docs} == {"general", "math_reasoning", "code", "multilingual"}
