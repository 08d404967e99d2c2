"""The posttrain stage end to end (quick profile) on a tiny model, through the plugin
system: registry.toml entries of the llama, torch (trainer) and posttrain plugins, the stage context."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from herd.core.app import App
from herd.core.pipeline import StageContext
from herd.core.posttrain_summary import read_round_summary, read_rounds


def _registry_file(tmp_path: Path, trainers: tuple[str, ...] = ("torch",)) -> Path:
    """Only the plugins this stage needs, taken from the real registry.toml."""
    import tomllib

    from herd.core.plugins import REGISTRY_PATH

    data = tomllib.loads(Path(REGISTRY_PATH).read_text())["plugins"]
    lines = []
    for name in ("llama", *trainers, "posttrain"):  # trainers: the backends of its RM, SFT and DPO jobs
        lines.append(f"[plugins.{name}]")
        for key, value in data[name].items():
            lines.append(f"{key} = {json.dumps(value)}")
    path = tmp_path / "registry.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _context(tmp_path: Path, pretrain: Path, overrides=(), resuming=False, workdir=None,
             trainers: tuple[str, ...] = ("torch",)) -> StageContext:
    app = App.create(profile="quick", registry_path=_registry_file(tmp_path, trainers), entry_points=False,
                     overrides=list(overrides))
    workdir = workdir or tmp_path / "posttrain.partial"
    workdir.mkdir(exist_ok=True)
    return StageContext(
        name="posttrain", config=app.config, workdir=workdir, inputs={"pretrain": pretrain},
        registry=app.registry, plugins=list(app.plugins.active), log=logging.getLogger("test.posttrain"),
        resuming=resuming, run_dir=tmp_path, profile="quick",
    )


@pytest.fixture(scope="module")
def stage_run(tmp_path_factory, model_dir):
    from herd.plugins.posttrain.stage import run_posttrain

    tmp = tmp_path_factory.mktemp("stage")
    pretrain = tmp / "pretrain"
    shutil.copytree(model_dir, pretrain / "final_model")
    ctx = _context(tmp, pretrain)
    result = run_posttrain(ctx)
    return ctx, result


def test_quick_round_writes_every_artifact(stage_run):
    ctx, result = stage_run
    work = ctx.workdir
    for path in ("round_0/eval.json", "round_1/summary.json", "rounds.json", "round_1/model/config.json",
                 "round_1/reward_model/config.json", "round_1/data/sft_mix.jsonl", "round_1/data/drops.jsonl",
                 "final_model/model.safetensors", "final_model/tokenizer.json", "summary.json"):
        assert (work / path).is_file(), path
    summary = read_round_summary(work / "round_1/summary.json")
    counts = summary.counts
    assert counts.synthetic_sft == 96 and counts.sft_rows == counts.synthetic_sft + counts.rejection_sampled
    assert summary.sft_mix.by_capability["general"] == counts.sft_rows
    assert set(summary.sft_mix.by_category) >= {"general/add", "general/copy"}
    assert summary.reward_model.accuracy[0] > 0.5  # learned right over wrong answers
    assert summary.sft.loss_last[0] < summary.sft.loss_first[0]
    assert summary.sft.max_len == 128  # the quick profile's max_len: no capability asks for more
    # Every dropped row has a reason and is counted.
    drops = [json.loads(x) for x in (work / "round_1/data/drops.jsonl").read_text().splitlines()]
    assert len(drops) == counts.dropped == sum(summary.drops.values())
    assert all(d["reason"] for d in drops)
    assert result.counts["rounds"] == 1
    # The RM is measured on preference rows it never trained on, and round 0 is its untrained head.
    assert summary.reward_model.heldout_pairs > 0
    table = read_rounds(work / "rounds.json")
    assert [r.round for r in table] == [0, 1]
    assert all(0.0 <= r.metrics["reward_model.heldout_accuracy"] <= 1.0 for r in table)


def test_samples_are_the_same_prompts_for_round_0_and_every_round(stage_run):
    from herd.core.samples import read_samples
    from herd.plugins.posttrain import tasks

    ctx, _ = stage_run
    models = read_samples(ctx.workdir / "samples.json")
    assert [m.round for m in models] == [0, 1]
    prompts = [[s.prompt for s in m.samples] for m in models]
    assert prompts[0] == prompts[1] and len(prompts[0]) == len(tasks.TASKS)  # one per built-in task
    assert all(s.expected for s in models[0].samples)
    assert read_samples(ctx.workdir / "round_1" / "samples.json") == models[1:]


def test_tiny_model_measurably_improves_over_round_0(stage_run):
    ctx, result = stage_run
    before = result.metrics["round_0.general.accuracy"]
    after = result.metrics["round_1.general.accuracy"]
    assert after >= before + 0.1, (before, after)


def test_resume_skips_completed_rounds(stage_run, tmp_path):
    from herd.plugins.posttrain.stage import run_posttrain

    ctx, first = stage_run
    copy = tmp_path / "resumed"
    shutil.copytree(ctx.workdir, copy)
    stamp = (copy / "round_1/model/model.safetensors").stat().st_mtime_ns
    again = run_posttrain(_context(tmp_path, ctx.inputs["pretrain"], resuming=True, workdir=copy))
    assert (copy / "round_1/model/model.safetensors").stat().st_mtime_ns == stamp
    assert again.metrics["round_1.general.accuracy"] == first.metrics["round_1.general.accuracy"]


def test_missing_pretrain_model_is_a_clear_error(tmp_path):
    from herd.core.errors import StageError
    from herd.plugins.posttrain.stage import run_posttrain

    (tmp_path / "pretrain").mkdir()
    with pytest.raises(StageError, match="no Hugging Face-format model"):
        run_posttrain(_context(tmp_path, tmp_path / "pretrain"))


def test_empty_variant_list_is_a_config_error(tmp_path, model_dir):
    from herd.core.errors import ConfigError
    from herd.plugins.posttrain.stage import run_posttrain

    shutil.copytree(model_dir, tmp_path / "pretrain" / "final_model")
    with pytest.raises(ConfigError, match=r"\[posttrain\] sft_seeds is empty"):
        run_posttrain(_context(tmp_path, tmp_path / "pretrain", overrides=["posttrain.sft_seeds=[]"]))


def test_base_model_replaces_the_pretrain_stage_and_is_checked(tmp_path, model_dir):
    from herd.core.errors import ConfigError, StageError
    from herd.plugins.posttrain.stage import find_given_model, run_posttrain

    with pytest.raises(StageError, match="set \\[posttrain\\] base_model"):
        run_posttrain(_without_pretrain(tmp_path))
    with pytest.raises(ConfigError, match="no config.json"):
        run_posttrain(_without_pretrain(tmp_path, [f"posttrain.base_model={json.dumps(str(tmp_path))}"]))
    assert find_given_model(Path(model_dir)) == (Path(model_dir), Path(model_dir))


def _without_pretrain(tmp_path: Path, overrides=()) -> StageContext:
    ctx = _context(tmp_path, tmp_path, overrides, workdir=tmp_path / f"w{len(overrides)}")
    ctx.inputs.clear()
    return ctx


def test_sft_funnel_of_the_judges_plugin_filters_the_rounds_rows(tmp_path):
    import tomllib

    from herd.core.plugins import REGISTRY_PATH
    from herd.core.records import ChatMessage, SFTRow
    from herd.core.services import Services
    from herd.plugins.posttrain.round_state import Ledger
    from herd.plugins.posttrain.sft_step import sft_funnel

    data = tomllib.loads(Path(REGISTRY_PATH).read_text())["plugins"]
    registry = tmp_path / "registry.toml"
    registry.write_text("\n".join(f"[plugins.{name}]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in data[name].items())
                                  for name in ("llama", "posttrain", "judges")) + "\n")
    app = App.create(profile="quick", registry_path=registry, entry_points=False)
    ctx = StageContext(name="posttrain", config=app.config, workdir=tmp_path, inputs={}, registry=app.registry,
                       plugins=list(app.plugins.active), log=logging.getLogger("test"), resuming=False,
                       run_dir=tmp_path, profile="quick")
    rows = [SFTRow(f"r{i}", [ChatMessage("user", f"What is {i} plus 1?"), ChatMessage("assistant", str(i + 1))])
            for i in range(3)]
    rows.append(SFTRow("sorry", [ChatMessage("user", "What is 2 plus 2?"),
                                 ChatMessage("assistant", "I'm sorry, but as an AI I cannot do maths.")]))
    ledger = Ledger()
    funnel = sft_funnel(ctx, Services(ctx), rows, ledger, round_no=1, seed=0)
    kept, counts = funnel.rows, funnel.counts
    assert [r.id for r in kept] == ["r0", "r1", "r2"]
    assert counts["input"] == 4 and counts["kept"] == 3 and counts["dropped"] == 1
    assert ledger.drops[0].id == "sorry" and ledger.drops[0].reason.startswith("rule_cleaning.rejected")


# ----- seeds and resumption (issue 15, items 4 and 5) ---------------------------------------


def _run_in(tmp_path: Path, pretrain: Path, name: str, overrides=(), resuming=False) -> Path:
    from herd.plugins.posttrain.stage import run_posttrain

    work = tmp_path / name
    work.mkdir(exist_ok=True)
    run_posttrain(_context(tmp_path, pretrain, overrides=overrides, resuming=resuming, workdir=work))
    return work


WALL_CLOCK = ("elapsed_seconds", "tokens_per_s", "mfu")  # of a training job's metrics.jsonl records


def _repeatable(path: Path) -> str:
    if path.name != "metrics.jsonl":
        return path.read_text()
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return json.dumps([{k: v for k, v in r.items() if k not in WALL_CLOCK} for r in records])


def _round_files(work: Path) -> dict[str, str]:
    """Every round's summary and data, as text (what must repeat exactly: the training
    metrics without their wall-clock fields)."""
    return {str(p.relative_to(work)): _repeatable(p) for p in sorted(work.glob("round_*/**/*.json*"))
            if "evaluators" not in p.parts}


@pytest.mark.slow
def test_run_seed_decides_sampling_and_equal_seeds_repeat(stage_run, tmp_path):
    ctx, _ = stage_run
    pretrain = ctx.inputs["pretrain"]
    again = _run_in(tmp_path, pretrain, "again")
    other = _run_in(tmp_path, pretrain, "seed3", overrides=["run.seed=3"])
    assert _round_files(again) == _round_files(ctx.workdir)
    sampled = "round_1/data/online_pairs.jsonl"
    assert (other / sampled).read_text() != (again / sampled).read_text()


@pytest.mark.slow
def test_an_interrupted_and_resumed_run_matches_an_uninterrupted_one(stage_run, tmp_path):
    ctx, _ = stage_run
    pretrain = ctx.inputs["pretrain"]
    two_rounds = ["posttrain.rounds=2"]
    whole = _run_in(tmp_path, pretrain, "whole", two_rounds)
    expected = _round_files(whole)
    for interrupted_in in (1, 2):
        work = tmp_path / f"interrupted_in_{interrupted_in}"
        shutil.copytree(whole, work)
        # What a kill during round r leaves: earlier rounds complete, round r partial, no stage files.
        for name in ("final_model", "summary.json", "rounds.json", "round_2"):
            target = work / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        partial = work / f"round_{interrupted_in}"
        partial.mkdir(exist_ok=True)
        (partial / "summary.json").unlink(missing_ok=True)
        (partial / "model").mkdir(exist_ok=True)
        _run_in(tmp_path, pretrain, work.name, two_rounds, resuming=True)
        assert _round_files(work) == expected, f"interrupted in round {interrupted_in}"
        assert (work / "rounds.json").read_text() == (whole / "rounds.json").read_text()


@pytest.mark.slow
def test_the_nemo_backend_trains_the_rounds_jobs(stage_run, tmp_path, caplog):
    """``[posttrain] trainer = "nemo"``: the reward model, SFT and DPO variants are NeMo
    AutoModel jobs; the round completes with the same artifacts, and its SFT loss falls."""
    pytest.importorskip("nemo_automodel")
    from herd.plugins.posttrain.stage import run_posttrain

    ctx, _ = stage_run
    work = tmp_path / "nemo"
    caplog.set_level(logging.INFO, logger="test.posttrain")
    run_posttrain(_context(tmp_path, ctx.inputs["pretrain"], overrides=['posttrain.trainer="nemo"'], workdir=work,
                           trainers=("torch", "nemo")))
    summary = read_round_summary(work / "round_1/summary.json")
    assert (work / "final_model/model.safetensors").is_file() and (work / "round_1/reward_model/config.json").is_file()
    assert summary.sft.loss_last[0] < summary.sft.loss_first[0]
    assert summary.counts.dpo_pairs == summary.dpo.pairs > 0
    jobs = [r.getMessage() for r in caplog.records if " job " in r.getMessage() and "rows on trainer" in r.getMessage()]
    assert jobs and all("on trainer 'nemo'" in line for line in jobs)
    assert {line.split()[0] for line in jobs} == {"reward_model", "sft", "dpo"}
