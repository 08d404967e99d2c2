"""The report's "Curation classifiers" section: how each classifier trained in the curate
stage did on its held-out split (precision and recall per class), or why it fell back to
its rules. Reads ``curate/steps/<step>/classifier.json`` (core.classifier_eval)."""

from __future__ import annotations

from pathlib import Path

from herd.core.classifier_eval import FILE_NAME, ClassifierEval, read_classifier_eval

TITLE = "Curation classifiers (held-out split)"
HEADER = ["step", "method", "class", "precision", "recall", "held out", "trained on", "note"]


def read_classifiers(curate_dir: Path) -> list[ClassifierEval]:
    """Every classifier evaluation the curate stage kept, in step-name order."""
    return [read_classifier_eval(path) for path in sorted((curate_dir / "steps").glob(f"*/{FILE_NAME}"))]


def classifier_section(evals: list[ClassifierEval]) -> tuple[str, list[str], list[list[str]], None] | None:
    """(title, header, rows, no figure): one row per class, or one row saying why there is
    no model."""
    if not evals:
        return None
    rows: list[list[str]] = []
    for ev in evals:
        accuracy = "" if ev.accuracy is None else f"accuracy {ev.accuracy:.3f}; "
        # (its training time is in classifier.json: wall-clock stays out of the report's tables)
        note = f"{accuracy}{ev.model}" if ev.held_out else ev.note
        if not ev.held_out:
            rows.append([ev.step, ev.method, "", "", "", "", _counts(ev), note])
            continue
        for m in ev.held_out:
            rows.append([ev.step, ev.method, m.label, f"{m.precision:.3f}", f"{m.recall:.3f}", str(m.support),
                         str(ev.train_examples.get(m.label, "")), note])
    return TITLE, HEADER, rows, None


def _counts(ev: ClassifierEval) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(ev.train_examples.items()))
