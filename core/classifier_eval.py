"""What a curation classifier trained in the run records about itself, and what the report reads.

A contract between plugins (the curation steps that train the domain and quality classifiers
write ``<curate>/steps/<step>/classifier.json``; the report stage reads it), so it lives in
core: the report never imports the step's plugin. The file is written from these dataclasses
and read back into them, so a missing field is an error naming the file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from herd.core.errors import InputError

FILE_NAME = "classifier.json"

# How a classifier labelled the corpus.
TRAINED = "trained"  # a model trained in this run on the run's labelled documents
CONFIGURED = "configured"  # a model file given in the config (not trained here)
FALLBACK = "heuristic_fallback"  # too little labelled data: the heuristic rules decided


@dataclass(frozen=True)
class ClassMetrics:
    """Precision and recall of one class on the held-out split; ``support`` = its held-out
    documents, ``predicted`` = held-out documents the model put in it."""

    label: str
    precision: float
    recall: float
    support: int
    predicted: int


@dataclass
class ClassifierEval:
    """``method``: TRAINED, CONFIGURED or FALLBACK; ``note`` says why a fallback was used.
    ``train_examples``: labelled training documents per class; ``held_out``: per-class metrics
    (empty when nothing was held out)."""

    step: str
    method: str
    note: str = ""
    model: str = ""  # e.g. "fasttext dim=16 epoch=15 wordNgrams=1"
    train_examples: dict[str, int] = field(default_factory=dict)
    held_out: list[ClassMetrics] = field(default_factory=list)
    accuracy: float | None = None
    train_seconds: float = 0.0
    seed: int = 0

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE_NAME
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")
        return path


def read_classifier_eval(path: Path) -> ClassifierEval:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        held_out = [ClassMetrics(**row) for row in data.pop("held_out")]
        return ClassifierEval(held_out=held_out, **data)
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a classifier evaluation written by ClassifierEval.write ({exc})") from exc
