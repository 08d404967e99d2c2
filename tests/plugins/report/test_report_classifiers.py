"""The report's classifier section reads the curate stage's ``steps/*/classifier.json``
through the typed contract in core (``herd.core.classifier_eval``)."""

from __future__ import annotations

import pytest

from herd.core import atomic
from herd.core.classifier_eval import FALLBACK, TRAINED, ClassifierEval, ClassMetrics
from herd.core.errors import InputError
from herd.plugins.report.collect import collect
from herd.plugins.report.stage import build_sections, markdown


def _curate(tmp_path):
    folder = tmp_path / "curate"
    atomic.write_json(folder / "manifest.json", {"plugin": "curation", "seconds": 1.0, "counts": {}, "metrics": {},
                                                 "notes": []})
    return folder


def test_held_out_precision_and_recall_reach_the_report(tmp_path):
    folder = _curate(tmp_path)
    ClassifierEval("domain_classifier", TRAINED, model="fasttext dim=16", train_examples={"code": 40, "general": 60},
                   held_out=[ClassMetrics("code", 0.9, 0.75, 12, 10), ClassMetrics("general", 0.875, 0.95, 20, 22)],
                   accuracy=0.875, train_seconds=0.5).write(folder / "steps" / "domain_classifier")
    ClassifierEval("quality_classifier", FALLBACK, note="too little labelled data to train",
                   train_examples={"hq": 3}).write(folder / "steps" / "quality_classifier")
    data = collect({"curate": folder})
    sections = {name: (header, rows) for name, header, rows, _ in build_sections(data)}
    header, rows = sections["Curation classifiers (held-out split)"]
    assert rows[0][:7] == ["domain_classifier", "trained", "code", "0.900", "0.750", "12", "40"]
    assert rows[1][2:5] == ["general", "0.875", "0.950"] and "accuracy 0.875" in rows[1][7]
    assert rows[2][:2] == ["quality_classifier", FALLBACK] and "too little labelled data" in rows[2][7]
    assert "| domain_classifier | trained | code | 0.900 |" in markdown("run", build_sections(data), {})


def test_a_malformed_classifier_file_is_an_error_naming_it(tmp_path):
    folder = _curate(tmp_path)
    (folder / "steps" / "x").mkdir(parents=True)
    (folder / "steps" / "x" / "classifier.json").write_text('{"step": "x"}')
    with pytest.raises(InputError, match="x/classifier.json"):
        collect({"curate": folder})
