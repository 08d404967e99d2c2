"""The torch backend's post-training jobs: SFT and DPO with dp=2 (and tp=2) under torchrun
(gloo on CPU) follow the single-process losses; a reward-model job trains and reports."""

import json

import pytest

from herd.core.metrics import read_metrics
from herd.core.protocols import ParallelSizes, PostTrainJob, PostTrainSettings
from herd.lib.posttraining.launch import run_post_train_job

# The ranks sum the same terms in a different order (and tensor parallel splits matmuls),
# so fp32 losses agree to rounding, far below what one optimizer step changes.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def single(tmp_path_factory, post_train_job):
    return {kind: run_post_train_job("torch", None, post_train_job(tmp_path_factory.mktemp(kind) / "out", kind))
            for kind in ("sft", "dpo")}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sft", "dpo"])
@pytest.mark.parametrize("layout", [{"dp": 2}, {"tp": 2}], ids=["dp2", "tp2"])
def test_parallel_post_training_matches_one_process(single, tmp_path, kind, layout, post_train_job):
    result = run_post_train_job("torch", None, post_train_job(tmp_path / "out", kind, ParallelSizes(**layout)))
    base = single[kind]
    assert len(result.losses) == len(base.losses) >= 4
    assert result.losses == pytest.approx(base.losses, abs=TOLERANCE)
    assert result.losses[-1] < result.losses[0]
    if kind == "dpo":
        assert result.margins == pytest.approx(base.margins, abs=TOLERANCE)
        assert result.pairs == base.pairs == 12
    assert json.loads((tmp_path / "out" / "result.json").read_text())["losses"] == result.losses
    # rank 0 writes the step records under torchrun too
    assert [m.loss for m in read_metrics(tmp_path / "out" / "metrics.jsonl")] == result.losses
    assert (tmp_path / "out" / "model.safetensors").is_file() and (tmp_path / "out" / "tokenizer.json").is_file()


@pytest.mark.slow
def test_single_process_job_writes_a_loadable_model(single):
    from herd.lib.posttraining.models import load_policy

    result = single["sft"]
    assert result.rows == 12 and result.packed_sequences >= 4 and result.target_tokens > 0
    model = load_policy(result.model_dir)
    assert model.cfg.n_layers == 2


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sft", "dpo"])
def test_a_job_writes_one_step_record_per_optimizer_step(single, kind):
    result = single[kind]
    steps = read_metrics(result.model_dir / "metrics.jsonl")
    assert [m.loss for m in steps] == result.losses
    assert [m.step for m in steps] == list(range(1, len(steps) + 1)) and {m.phase for m in steps} == {kind}
    assert all(m.tokens_per_s > 0 and m.grad_norm > 0 and m.lr > 0 and m.mfu > 0 for m in steps)
    assert [m.tokens for m in steps] == sorted(m.tokens for m in steps) and steps[-1].elapsed_seconds > 0


@pytest.mark.slow
def test_reward_model_job_trains_and_reports_heldout_accuracy(posttrain_data, tmp_path):
    from transformers import LlamaForSequenceClassification

    settings = PostTrainSettings(lr=3e-3, epochs=3, batch_size=4, max_len=64, seed=0, heldout_fraction=0.25)
    rm = PostTrainJob("reward_model", posttrain_data[0], posttrain_data[2], tmp_path / "rm", settings=settings,
                      parallel=ParallelSizes(dp=2), device="cpu")
    result = run_post_train_job("torch", None, rm)
    assert result.pairs + result.heldout_pairs == 12 and result.heldout_pairs > 0
    assert result.losses[-1] < result.losses[0]
    assert result.train_accuracy == 1.0 and result.heldout_accuracy is not None
    assert LlamaForSequenceClassification.from_pretrained(str(tmp_path / "rm")).config.num_labels == 1
    assert [m.loss for m in read_metrics(tmp_path / "rm" / "metrics.jsonl")] == result.losses


def test_torch_refuses_pipeline_parallel_post_training(tmp_path, post_train_job):
    from herd.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"pp=2: the torch trainer runs only tp and dp.*nemo"):
        run_post_train_job("torch", None, post_train_job(tmp_path / "o", "sft", ParallelSizes(pp=2)))
