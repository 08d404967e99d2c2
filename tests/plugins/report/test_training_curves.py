"""The report's training curves: read from the metrics files every training loop writes
(pretraining stages, the code expert, each post-training round's jobs)."""

import html

from herd.core import atomic
from herd.core.metrics import StepMetrics, Validation, append_record
from herd.plugins.report import training_curves
from herd.plugins.report.stage import CAPTIONS, build_sections, html_page, with_training_sections
from herd.plugins.report.collect import collect

PNG = b"\x89PNG"


def _write(path, phase: str, steps: range, val_at: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for i in steps:
        append_record(path, StepMetrics(step=i, phase=phase, tokens=64 * i, loss=5.0 - 0.1 * i, lr=1e-3, grad_norm=1.0,
                                        tokens_per_s=1e4, elapsed_seconds=0.1 * i, mfu=0.02).to_json())
    if val_at is not None:
        append_record(path, Validation(val_at, phase, 4.0).to_json())


def _run(tmp_path) -> dict:
    pre, code, post = tmp_path / "pretrain", tmp_path / "code_expert", tmp_path / "posttrain"
    _write(pre / "train" / "metrics.jsonl", "initial", range(1, 6), val_at=5)
    _write(pre / "train" / "metrics.jsonl", "anneal", range(6, 9))
    _write(code / "train" / "metrics.jsonl", "code_continued", range(1, 4), val_at=3)
    for r in (1, 2):
        for job, kind in (("reward_model_0", "reward_model"), ("sft_0", "sft"), ("sft_1", "sft"), ("dpo_0", "dpo")):
            _write(post / f"round_{r}" / "jobs" / job / "metrics.jsonl", kind, range(1, 4))
    for folder in (pre, code, post):
        atomic.write_json(folder / "manifest.json", {"plugin": folder.name, "seconds": 1.0, "counts": {},
                                                     "metrics": {}, "notes": []})
    return {"pretrain": pre, "code_expert": code, "posttrain": post}


def test_curves_are_read_per_stage_phase_round_and_job(tmp_path):
    curves = training_curves.read_curves(_run(tmp_path))
    assert [(c.stage, c.group, c.job, c.phase) for c in curves][:3] == [
        ("pretrain", "", "train", "initial"), ("pretrain", "", "train", "anneal"),
        ("code_expert", "", "train", "code_continued")]
    post = [(c.group, c.job) for c in curves if c.stage == "posttrain"]
    assert len(post) == 8 and ("round_2", "dpo_0") in post
    initial = curves[0]
    assert [s.step for s in initial.validation] == [5] and initial.validation[0].val_loss == 4.0


def test_every_curve_figure_and_section_reaches_the_report(tmp_path):
    inputs = _run(tmp_path)
    curves = training_curves.read_curves(inputs)
    images = training_curves.figures(curves)
    assert set(images) == set(training_curves.CAPTIONS) and all(png.startswith(PNG) for png in images.values())
    sections = with_training_sections(build_sections(collect(inputs)), training_curves.sections(curves))
    by_title = {title: (header, rows, figure) for title, header, rows, figure in sections}
    header, rows, figure = by_title["Pretraining curves"]
    assert figure == "training_pretrain"
    assert rows[0] == ["pretrain", "initial", "5", "320", "4.9000", "4.5000", "4.0000"]
    # wall-clock throughput has its own figure (it differs from run to run); the tables repeat
    assert by_title["Training throughput"][2] == "training_throughput"
    assert ["pretrain", "", "train", "initial"] in by_title["Training throughput"][1]
    assert by_title["Expert training curves"][1][0][:2] == ["code_expert", "code_continued"]
    post_rows = by_title["Post-training curves"][1]
    # rounds in order, a round's jobs in the order they train (docs/recipe.md section 5)
    assert [r[:3] for r in post_rows[:5]] == [["round_1", "reward_model_0", "reward_model"], ["round_1", "sft_0", "sft"],
                                              ["round_1", "sft_1", "sft"], ["round_1", "dpo_0", "dpo"],
                                              ["round_2", "reward_model_0", "reward_model"]]
    page = html_page("run", sections, images)
    for name in images:
        assert f"alt='{html.escape(CAPTIONS[name])}'" in page


def test_a_run_without_training_has_no_curves(tmp_path):
    folder = tmp_path / "curate"
    atomic.write_json(folder / "manifest.json", {"plugin": "curation", "seconds": 1.0, "counts": {}, "metrics": {},
                                                 "notes": []})
    curves = training_curves.read_curves({"curate": folder})
    assert curves == [] and training_curves.figures(curves) == {} and training_curves.sections(curves) == []
