"""The ``nemo`` trainer on one CPU process: the same network, losses and checkpoints as the
torch backend, its layout validation, resumption after SIGKILL, and the final model in
``transformers``."""

import json
import shutil
import signal
import time

import pytest
import torch

pytest.importorskip("nemo_automodel")

from herd.core.errors import ConfigError  # noqa: E402
from herd.core.protocols import ParallelSizes  # noqa: E402
from herd.lib.llama.model import Llama, config_for  # noqa: E402
from herd.plugins.nemo.config import NemoTrainerConfig  # noqa: E402
from herd.plugins.nemo.distributed import validate_layout  # noqa: E402
from herd.plugins.nemo.hf_model import hf_module  # noqa: E402
from herd.plugins.nemo.packed import packed_inputs  # noqa: E402


def test_hugging_face_module_equals_herds_llama_on_packed_documents():
    torch.manual_seed(0)
    herd = Llama(config_for("tiny", vocab_size=320)).eval()
    hf = hf_module(herd.cfg, herd.state_dict()).eval()
    tokens = torch.randint(0, 320, (3, 24))
    docs = torch.tensor([[0] * 10 + [1] * 14, [0] * 24, [0] * 3 + [1] * 3 + [2] * 18])
    with torch.no_grad():
        expected = herd(tokens, doc_ids=docs)
        got = hf(input_ids=tokens, **packed_inputs(docs)).logits
        crossing = hf(input_ids=tokens).logits  # without the document mask
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(crossing[0, 10:], expected[0, 10:], atol=1e-3)  # the mask matters


def test_layout_validation_names_the_key(token_data, nemo_job, tmp_path):
    model = config_for("tiny", vocab_size=320)  # 4 heads, 2 KV heads, 2 layers, ffn 192
    cfg = NemoTrainerConfig()
    job = nemo_job(token_data, tmp_path, parallel=ParallelSizes(cp=2))
    validate_layout(job, model, cfg, "cpu")  # cp's all-gather attention runs on gloo ranks too
    job.stages[0].seq_len = 18  # 18 is not a multiple of 2 x cp = 4
    with pytest.raises(ConfigError, match="not divisible by 2 x cp = 4"):
        validate_layout(job, model, cfg, "cuda")
    job = nemo_job(token_data, tmp_path, parallel=ParallelSizes(cp=2))
    validate_layout(job, model, cfg, "cuda")  # 16 and 32 split into 4 chunks
    with pytest.raises(ConfigError, match="tp=4 must divide"):
        validate_layout(nemo_job(token_data, tmp_path, parallel=ParallelSizes(tp=4)), model, cfg, "cpu")
    with pytest.raises(ConfigError, match="pp=3 exceeds the model's 2 layers"):
        validate_layout(nemo_job(token_data, tmp_path, parallel=ParallelSizes(pp=3)), model, cfg, "cpu")
    tied = config_for("tiny", vocab_size=320, tie_embeddings=True)
    with pytest.raises(ConfigError, match="untied"):
        validate_layout(nemo_job(token_data, tmp_path, parallel=ParallelSizes(pp=2)), tied, cfg, "cpu")
    with pytest.raises(ConfigError, match="recompute='some'"):
        validate_layout(nemo_job(token_data, tmp_path), model, NemoTrainerConfig(recompute="some"), "cpu")


@pytest.mark.slow
def test_three_stages_follow_the_torch_backend_and_export_to_transformers(token_data, nemo_job, run_train,
                                                                         read_losses, tmp_path):
    from transformers import AutoModelForCausalLM

    from herd.lib.llama.hf_io import export_hf, load_model

    nemo = nemo_job(token_data, tmp_path / "nemo", long=True, anneal=True)
    plain = nemo_job(token_data, tmp_path / "torch", long=True, anneal=True)
    run_train(nemo, "nemo")
    run_train(plain, "torch")
    # same initial weights, data, schedule and arithmetic: the same loss curve
    assert read_losses(nemo.output_dir) == pytest.approx(read_losses(plain.output_dir), abs=1e-4)
    records = [json.loads(x) for x in (nemo.output_dir / "metrics.jsonl").read_text().splitlines()]
    assert {r["phase"] for r in records if "loss" in r} == {"initial", "long_64", "anneal"}
    assert any(r.get("event") == "long_context_check" for r in records)
    assert {"lr", "grad_norm", "tokens_per_s", "mfu", "seq_len", "batch_tokens"} <= set(records[0])
    result = json.loads((nemo.output_dir / "result.json").read_text())
    assert result["metrics"]["final.averaged_snapshots"] >= 2  # annealing's Polyak average
    # the final model is a herd checkpoint that transformers loads with equal logits
    hf_dir = export_hf(nemo.output_dir / "final", tmp_path / "hf")
    hf = AutoModelForCausalLM.from_pretrained(hf_dir).eval()
    herd = load_model(nemo.output_dir / "final").eval()
    tokens = torch.randint(0, 320, (2, 20))
    with torch.no_grad():
        assert torch.allclose(hf(tokens).logits, herd(tokens), atol=1e-4)


def _resume_from(src, dst, step: int) -> None:
    """``dst`` becomes a run directory whose last complete checkpoint is ``src``'s ``step``."""
    (dst / "checkpoints").mkdir(parents=True)
    name = f"step_{step:08d}"
    shutil.copytree(src / "checkpoints" / name, dst / "checkpoints" / name)
    (dst / "checkpoints" / "latest").write_text(name + "\n")
    kept = [x for x in (src / "metrics.jsonl").read_text().splitlines() if json.loads(x).get("step", 0) <= step]
    (dst / "metrics.jsonl").write_text("".join(x + "\n" for x in kept))


@pytest.mark.slow
@pytest.mark.parametrize("writer,reader", [("nemo", "torch"), ("torch", "nemo")])
def test_a_checkpoint_of_one_backend_resumes_in_the_other(token_data, nemo_job, run_train, read_losses, tmp_path,
                                                          writer, reader):
    first = nemo_job(token_data, tmp_path / "first")
    run_train(first, writer)
    second = nemo_job(token_data, tmp_path / "second")
    _resume_from(first.output_dir, second.output_dir, 8)
    second.resume = True
    run_train(second, reader)
    assert read_losses(second.output_dir) == pytest.approx(read_losses(first.output_dir), abs=1e-4)
    state = torch.load(second.output_dir / "checkpoints" / "step_00000012" / "state.pt", weights_only=False)
    assert set(state) >= {"model", "optimizer", "progress", "rng", "model_config"}
    assert "embed_tokens.weight" in state["model"]  # herd's parameter names, whichever backend wrote it


@pytest.mark.slow
def test_sigkilled_run_resumes_on_the_same_trajectory(token_data, nemo_job, run_train, read_losses, tmp_path):
    whole = nemo_job(token_data, tmp_path / "whole", long=True, anneal=True)
    run_train(whole, trainer={"checkpoint_every": 2})
    killed = nemo_job(token_data, tmp_path / "killed", long=True, anneal=True)
    proc = run_train(killed, trainer={"checkpoint_every": 2}, popen=True)
    latest = killed.output_dir / "checkpoints" / "latest"
    deadline = time.time() + 600
    while not (latest.exists() and latest.read_text().strip() >= "step_00000006") and time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed.output_dir / "result.json").exists()  # it was killed mid-run
    killed.resume = True
    run_train(killed, trainer={"checkpoint_every": 2})
    assert read_losses(killed.output_dir) == read_losses(whole.output_dir)  # bit-identical on CPU


@pytest.mark.slow
def test_checkpoint_of_another_model_is_refused(token_data, nemo_job, run_train, tmp_path):
    first = nemo_job(token_data, tmp_path / "run", initial_tokens=512)
    run_train(first)
    other = nemo_job(token_data, tmp_path / "run", initial_tokens=512)
    other.model = {"size": "tiny", "vocab_size": 320, "n_layers": 3}
    other.resume = True
    done = run_train(other, check=False)
    assert done.returncode != 0 and "holds a different model" in done.stderr


@pytest.mark.slow
def test_continued_pretraining_starts_from_a_trained_model(token_data, nemo_job, run_train, read_losses, tmp_path):
    from herd.core.protocols import TrainStage
    from herd.plugins.nemo.trainer import NemoTrainer

    base = nemo_job(token_data, tmp_path / "base")
    run_train(base, "torch")
    job = nemo_job(token_data, tmp_path / "continued")
    job.stages = [TrainStage("continued", "continued", 512, 32, 1e-3, 1e-4, batch_tokens=256, warmup_steps=2)]
    job.init_from = base.output_dir / "final"
    result = NemoTrainer(NemoTrainerConfig(threads=1, eval_rows=4)).train(job)
    continued = read_losses(job.output_dir)
    assert len(continued) == 2 and continued[0] < read_losses(base.output_dir)[0] - 1.0  # not from scratch
    assert result.metrics["continued.short_eval_loss"] > 0 and (result.checkpoint / "model.safetensors").is_file()
