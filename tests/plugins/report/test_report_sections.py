"""The report's header, sample generations and dropped-document examples, from a small real
run (the pipeline, the built-in report plugin, stages that write the documented files),
checked in report.md and as headless Chromium renders report.html."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import herd
import herd.plugins.report as report_plugin
from herd.core import atomic
from herd.core.app import App
from herd.core.hookspecs import hookimpl
from herd.core.pipeline import StageContext, StageResult
from herd.core.posttrain_summary import RoundRow, to_json
from herd.core.records import DroppedRecord
from herd.core.rundir import RunDir
from herd.core.samples import ModelSamples, Sample, write_samples
from herd.plugins.report import plots
from herd.plugins.report.collect import ReportData

INJECTED = "<b id='injected'>bold</b> & <script>document.title='pwned'</script>"


class Stages:
    """curate writes funnel.json and dropped/ (one document holds HTML); posttrain writes
    rounds.json and samples.json as the posttrain stage does."""

    @hookimpl
    def herd_register_stages(self, register):
        register("curate", self.curate)
        register("posttrain", self.posttrain)

    def curate(self, ctx: StageContext) -> StageResult:
        steps = [{"name": "length", "records_in": 6, "records_out": 2, "dropped": 4, "drops": {"length.too_short": 4}},
                 {"name": "html", "records_in": 2, "records_out": 1, "dropped": 1, "drops": {"html.markup": 1}}]
        atomic.write_json(ctx.workdir / "funnel.json", {"steps": steps})
        records = [DroppedRecord(f"short-{i}", "curate", "length", "length.too_short", f"{i} < 200 chars", "x" * i)
                   for i in range(4)]
        records.append(DroppedRecord("page", "curate", "html", "html.markup", "markup", INJECTED + " y" * 400))
        (ctx.workdir / "dropped").mkdir()
        with gzip.open(ctx.workdir / "dropped" / "p0-00000.jsonl.gz", "wt", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r.to_dict()) + "\n" for r in records)
        return StageResult(counts={"kept": 1})

    def posttrain(self, ctx: StageContext) -> StageResult:
        atomic.write_json(ctx.workdir / "rounds.json", to_json([
            RoundRow(0, {"general.accuracy": 0.0}),
            RoundRow(1, {"general.accuracy": 0.5}, {"general": 9, "code": 3, "multilingual": 2}),
            RoundRow(2, {"general.accuracy": 0.75}, {"general": 9, "code": 5, "multilingual": 4})]))
        prompts = [("What is 2 plus 3?", "5"), ("Repeat exactly: river", "river")]
        answers = {0: ["banana", "apple"], 1: ["5", "apple"], 2: ["5", "river"]}
        write_samples(ctx.workdir / "samples.json", [
            ModelSamples(r, [Sample(p, a, e) for (p, e), a in zip(prompts, answers[r])]) for r in (0, 1, 2)])
        return StageResult(counts={"rounds": 2})


@pytest.fixture(scope="module")
def small_report(tmp_path_factory) -> Path:
    registry = tmp_path_factory.mktemp("registry") / "registry.toml"
    registry.write_text("# no built-ins\n")
    app = App.create(extra_plugins={"stages": Stages(), "report": report_plugin}, registry_path=registry,
                     entry_points=False, overrides=["run.name=tiny"])
    root = tmp_path_factory.mktemp("report-run") / "run"
    outcomes = app.run_pipeline(RunDir(root).create())
    assert {o.stage: o.status for o in outcomes}["report"] == "ran"
    return root


def _section(markdown: str, title: str) -> str:
    return markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_header_names_the_run(small_report):
    header = _section((small_report / "report" / "report.md").read_text(), "Run")
    fields = dict(re.findall(r"^\| ([^|]+) \| (.*) \|$", header, re.M))
    assert fields["run"] == "tiny" and fields["profile"] == "default"
    assert fields["plugins"] == "report 0.1.0, stages 0.1.0"  # name and version, from the manifests
    assert fields["herd"].startswith(herd.__version__ + " (")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", fields["started"])
    assert re.fullmatch(r"[0-9a-f]{16}", fields["config hash"])


def test_samples_before_and_after_post_training(small_report):
    samples = _section((small_report / "report" / "report.md").read_text(), "Sample generations")
    rows = [line for line in samples.splitlines() if line.startswith("| ")]
    assert rows[0] == ("| prompt | expected | round 0 (before post-training) | round 1 | round 2 (final model) |")
    assert rows[1] == "| What is 2 plus 3? | 5 | banana | 5 | 5 |"
    assert rows[2] == "| Repeat exactly: river | river | apple | apple | river |"


def test_dropped_examples_per_reason_truncated_and_escaped(small_report):
    dropped = _section((small_report / "report" / "report.md").read_text(), "Dropped documents (examples)")
    rows = [line for line in dropped.splitlines() if line.startswith("| ") and "reason" not in line]
    assert [r.split(" | ")[0] for r in rows] == ["| length.too_short"] * 3 + ["| html.markup"]  # 3 per reason
    markup = rows[-1]
    assert "&lt;b id='injected'&gt;" in markup and "<b" not in markup
    assert markup.endswith("… |") and len(markup) < 400


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.fail("Chromium is not installed; `bash setup.sh --dev` installs it")


@pytest.mark.slow
def test_new_sections_render_in_headless_chromium(small_report):
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
         "--dump-dom", (small_report / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    dom = done.stdout
    assert "<h2>Run</h2>" in dom, done.stderr[-2000:]
    for heading in ("Sample generations", "Dropped documents (examples)", "SFT data mix"):
        assert f"<h2>{heading}</h2>" in dom
    assert "<td>tiny</td>" in dom and "<th>round 2 (final model)</th>" in dom
    # The dropped page's HTML is text on the page: no element was made of it, no script ran.
    assert "<b id=" not in dom and "<script>document" not in dom
    assert "&lt;b id='injected'&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in dom
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom).group(1)


def test_the_sft_mix_legend_does_not_cover_its_bars():
    rows = [RoundRow(r, {}, {"general": 50, "code": 30 + r, "multilingual": 20, "math": 10, "tools": 5})
            for r in (1, 2, 3)]
    fig = plots.sft_mix_figure(ReportData(rounds=rows))
    fig.tight_layout()
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    bars = [patch.get_window_extent() for patch in ax.patches]
    assert bars and not any(legend.overlaps(bar) for bar in bars)
    figure_box = fig.bbox
    assert legend.x1 <= figure_box.x1 and legend.y1 <= figure_box.y1  # and it is on the image
