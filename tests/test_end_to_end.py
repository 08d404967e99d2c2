"""The main job end to end: ``python cli.py run --plugins code,multilingual --profile quick``
for real (a subprocess, the built-in data, a tiny model, the sandbox), then what a user
reads: the run directory, the funnel, the rounds, the evaluation and the HTML report as
headless Chromium renders it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli  # noqa: E402

STAGES = ["curate", "mix", "pretrain", "code_expert", "posttrain", "evaluate", "report"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("e2e") / "run"
    result = run_cli("run", "--plugins", "code,multilingual", "--profile", "quick", "--run-dir", str(run_dir),
                     timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def test_every_stage_completes_with_a_manifest(quick_run):
    for stage in STAGES:
        manifest = json.loads((quick_run / stage / "manifest.json").read_text())
        assert manifest["stage"] == stage
        assert manifest["seconds"] >= 0
    assert not list(quick_run.glob("*.partial"))


def test_curation_conserves_records_and_the_mix_hits_its_target(quick_run):
    funnel = json.loads((quick_run / "curate" / "funnel.json").read_text())
    manifest = json.loads((quick_run / "curate" / "manifest.json").read_text())
    counts = manifest["counts"]
    assert funnel["conserved"] is True
    assert counts["kept"] + counts["dropped"] == counts["records_in"] > 0
    mix = json.loads((quick_run / "mix" / "mix.json").read_text())
    for domain, share in mix["target"].items():
        assert abs(mix["achieved"].get(domain, 0.0) - share) < 0.05, (domain, mix)


def test_pretraining_ran_all_three_stages_and_exported_a_model(quick_run):
    stages = set()
    for line in (quick_run / "pretrain" / "train" / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        if "loss" in row:
            stages.add(row["phase"])
    assert "initial" in stages and "anneal" in stages and any(s.startswith("long_") for s in stages)
    assert (quick_run / "pretrain" / "final_model" / "config.json").is_file()


def test_posttraining_rounds_are_measured_against_round_0(quick_run):
    rounds = json.loads((quick_run / "posttrain" / "rounds.json").read_text())
    assert [r["round"] for r in rounds][:2] == [0, 1]
    for row in rounds:
        assert "general.accuracy" in row["metrics"]
        assert "reward_model.heldout_accuracy" in row["metrics"]
    assert sum(rounds[-1]["sft_mix"].values()) > 0


def test_evaluation_covers_both_capability_plugins(quick_run):
    results = json.loads((quick_run / "evaluate" / "metrics.json").read_text())["results"]
    assert "code.pass@1" in results["code_pass_at_k"]
    assert any(k.endswith(".perplexity") for k in results["multilingual"])


def test_report_markdown_has_every_section(quick_run):
    text = (quick_run / "report" / "report.md").read_text()
    for heading in ("Run", "Stages", "Curation funnel", "Curation classifiers (held-out split)",
                    "Dropped documents (examples)", "Pretraining mix", "Pretraining", "Needle in a haystack",
                    "Post-training rounds", "SFT data mix", "Sample generations", "Evaluation of the final model"):
        assert f"## {heading}\n" in text, heading
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (quick_run / "report" / image).stat().st_size > 1000, image


CHECK_IMAGES = """
<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 100).length;
  const out = document.createElement('pre');
  out.id = 'herd-image-check';
  out.textContent = 'images=' + imgs.length + ' rendered=' + ok;
  document.body.appendChild(out);
});
</script>
"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_html_report_renders_its_images_in_headless_chromium(quick_run, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.fail("Chromium is not installed; `bash setup.sh --dev` installs it")
    published = quick_run / "report.html"
    page = tmp_path / "report.html"
    page.write_text(published.read_text().replace("</body>", CHECK_IMAGES + "</body>"))
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    found = re.search(r"images=(\d+) rendered=(\d+)", done.stdout)
    assert found, done.stderr[-2000:]
    images, rendered = map(int, found.groups())
    assert images >= 7 and rendered == images
