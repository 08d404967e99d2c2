"""``herd inspect``: a real (small) run made by the pipeline, shown in pipeline order with
rounded numbers and sections; a stage folder shows that stage; other paths are errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from herd.core.app import App
from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageContext, StageResult
from herd.core.run_view import NotARunError, read_run
from herd.core.run_view_text import format_value, render
from herd.core.rundir import RunDir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import run_cli  # noqa: E402

# Run order on purpose not alphabetical: inspect must keep it.
STEPS = ("read", "zeta", "alpha")


class SmallRun:
    """curate (a funnel of three steps), mix, a plugin stage ``code_expert`` that the
    pipeline places after mix, and pretrain (an evaluator-style doubled prefix)."""

    @hookimpl
    def herd_register_stages(self, register):
        register("curate", self.curate)
        register("mix", self.mix, reads=("curate",))
        register("code_expert", self.expert, reads=("mix",))
        register("pretrain", self.pretrain, reads=("mix",))

    def curate(self, ctx: StageContext) -> StageResult:
        counts = {"records_in": 1200, "kept": 1000}
        for i, step in enumerate(STEPS):
            counts[f"out.{step}"] = 1200 - 100 * (i + 1)
            counts[f"dropped.{step}"] = 100
        return StageResult(counts=counts, metrics={f"seconds.{s}": 0.0123456 * (i + 1) for i, s in enumerate(STEPS)},
                           notes=["funnel: curate/funnel.json"])

    def mix(self, ctx: StageContext) -> StageResult:
        return StageResult(counts={"documents": 10}, metrics={"achieved.code": 0.1699251774041086})

    def expert(self, ctx: StageContext) -> StageResult:
        return StageResult(metrics={"final_loss": 4.326106071472168})

    def pretrain(self, ctx: StageContext) -> StageResult:
        return StageResult(metrics={
            "multilingual.multilingual.de.perplexity": 237.7506587164337,
            "multilingual.multilingual.de.language_match": 0.16666666666666666,
            "multilingual.multilingual.en.perplexity": 689.9465312800182,
            "multilingual.multilingual.en.language_match": 0.0,
        })


@pytest.fixture
def small_run(empty_registry, tmp_path) -> Path:
    app = App.create(extra_plugins={"small": SmallRun()}, registry_path=empty_registry, entry_points=False)
    root = tmp_path / "run"
    app.run_pipeline(RunDir(root).create())
    return root


def _headings(text: str) -> list[str]:
    return [line.split(":")[0].strip("= ") for line in text.splitlines() if line.startswith("== ")]


def test_stages_in_pipeline_order_with_sections_and_rounded_numbers(small_run):
    text = render(read_run(small_run))
    assert _headings(text) == ["curate", "mix", "code_expert", "pretrain"]
    lines = text.splitlines()
    # The funnel: one table, steps in the order they ran, a column per measure.
    header = next(i for i, line in enumerate(lines) if line.split() == ["dropped", "out", "seconds"]
                  or line.split() == ["out", "dropped", "seconds"])
    assert lines[header].split() == ["out", "dropped", "seconds"]
    assert [lines[header + 1 + i].split() for i in range(3)] == [
        ["read", "1,100", "100", "0.0123"], ["zeta", "1,000", "100", "0.0247"], ["alpha", "900", "100", "0.037"]]
    assert "0.1699251774041086" not in text and "achieved.code" in text and "0.17" in text
    assert "multilingual.multilingual" not in text
    evaluator = lines.index("  multilingual")
    assert lines[evaluator + 1].split() == ["de", "en"]  # the narrower side is the columns
    assert lines[evaluator + 2].split() == ["perplexity", "238", "690"]
    assert lines[evaluator + 3].split() == ["language_match", "0.167", "0"]
    assert "records_in" in text and "1,200" in text and "- funnel: curate/funnel.json" in text


def test_a_stage_folder_shows_that_stage_only(small_run):
    text = render(read_run(small_run / "curate"))
    assert _headings(text) == ["curate"]
    assert text.startswith(f"run {small_run}")


def test_numbers_keep_three_significant_digits_or_are_integers():
    assert [format_value(v) for v in (0.1699251774041086, 689.9465, 4.0, 1595189, 12345.67, 0.0004, True)] == \
        ["0.17", "690", "4", "1,595,189", "12,346", "0.0004", "True"]


def test_paths_that_are_not_runs_are_errors_naming_them(tmp_path, small_run):
    with pytest.raises(NotARunError, match=f"{tmp_path / 'nope'} is not a run directory"):
        read_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotARunError, match="manifest.json"):
        read_run(tmp_path / "empty")
    assert NotARunError.exit_code == 2


def test_the_inspect_command(small_run, tmp_path):
    shown = run_cli("inspect", str(small_run / "curate"))
    assert shown.returncode == 0, shown.stderr
    assert _headings(shown.stdout) == ["curate"]
    (tmp_path / "notes.txt").write_text("not a run")
    for path in (tmp_path / "notes.txt", tmp_path / "missing"):
        refused = run_cli("inspect", str(path))
        assert refused.returncode == 2
        assert f"herd: error: {path} is not a run directory" in refused.stderr
        assert "manifest.json" in refused.stderr
