"""The nemo backend's post-training jobs: SFT and DPO with dp=2 under torchrun (gloo on
CPU, FSDP2 by NeMo AutoModel) follow the single-process losses, which follow the torch
backend's (the same network as herd's Llama and as Hugging Face's)."""

import pytest

from herd.core.protocols import ParallelSizes, PostTrainJob, PostTrainSettings
from herd.lib.posttraining.launch import run_post_train_job

pytest.importorskip("nemo_automodel")

# Ranks sum the same fp32 terms in another order; herd's and HF's attention kernels differ
# by rounding. Both are far below one optimizer step's change of the loss.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def single(tmp_path_factory, post_train_job):
    return {kind: run_post_train_job("nemo", None, post_train_job(tmp_path_factory.mktemp(kind) / "out", kind))
            for kind in ("sft", "dpo")}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sft", "dpo"])
def test_dp2_matches_one_process(single, tmp_path, kind, post_train_job):
    result = run_post_train_job("nemo", None, post_train_job(tmp_path / "out", kind, ParallelSizes(dp=2)))
    assert len(result.losses) == len(single[kind].losses) >= 4
    assert result.losses == pytest.approx(single[kind].losses, abs=TOLERANCE)
    assert result.losses[-1] < result.losses[0]
    assert (tmp_path / "out" / "model.safetensors").is_file() and (tmp_path / "out" / "tokenizer.json").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sft", "dpo"])
def test_one_process_matches_the_torch_backend(single, tmp_path, kind, post_train_job):
    torch_result = run_post_train_job("torch", None, post_train_job(tmp_path / "torch", kind))
    assert single[kind].losses == pytest.approx(torch_result.losses, abs=TOLERANCE)


@pytest.mark.slow
def test_reward_model_job(posttrain_data, tmp_path):
    settings = PostTrainSettings(lr=3e-3, epochs=3, batch_size=4, max_len=64, heldout_fraction=0.25)
    result = run_post_train_job("nemo", None, PostTrainJob("reward_model", posttrain_data[0], posttrain_data[2],
                                                           tmp_path / "rm", settings=settings, device="cpu"))
    assert result.losses[-1] < result.losses[0] and result.train_accuracy == 1.0
    assert (tmp_path / "rm" / "config.json").is_file() and (tmp_path / "rm" / "tokenizer.json").is_file()


def test_nemo_refuses_pipeline_parallel_post_training(tmp_path, post_train_job):
    from herd.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"pp=2: nemo post-training runs tp and dp"):
        run_post_train_job("nemo", None, post_train_job(tmp_path / "o", "sft", ParallelSizes(pp=2)))
