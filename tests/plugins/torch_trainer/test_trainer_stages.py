import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from herd.core.protocols import Trainer
from herd.lib.llama.hf_io import load_model
from herd.plugins.torch_trainer.config import TorchTrainerConfig
from herd.plugins.torch_trainer.continued import continued_pretraining
from herd.lib.training.job_io import job_to_dict
from herd.plugins.torch_trainer.trainer import TorchTrainer

CFG = TorchTrainerConfig(checkpoint_every=4, average_every=2, eval_rows=4, threads=1)


def metrics(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def losses(path):
    return [(m["step"], m["phase"], m["loss"], m["lr"], m["grad_norm"]) for m in metrics(path) if "loss" in m]


def test_three_stages_in_order_with_long_context_status_and_polyak_average(token_data, tmp_path, make_job):
    trainer = TorchTrainer(CFG)
    assert isinstance(trainer, Trainer)
    result = trainer.train(make_job(token_data, tmp_path / "run"))
    rows = metrics(tmp_path / "run" / "metrics.jsonl")
    steps = [m for m in rows if "loss" in m]
    order = [m["phase"] for m in steps]
    assert order == sorted(order, key=["initial", "long_64", "anneal"].index)
    assert set(order) == {"initial", "long_64", "anneal"}
    assert [m["seq_len"] for m in steps if m["phase"] == "initial"][-1] == 32  # ramp applied
    assert steps[-1]["loss"] < steps[0]["loss"] - 1.0
    assert all(k in steps[0] for k in ("lr", "grad_norm", "tokens_per_s", "mfu"))
    checks = [m for m in rows if m.get("event") == "long_context_check"]
    assert checks and checks[-1]["status"] in ("recovered", "not_recovered")
    assert checks[-1]["tokens"] <= 1024  # capped, not looping
    assert steps[-1]["lr"] < 3e-4 / 4 and [m for m in steps if m["phase"] == "anneal"][0]["lr"] <= 3e-4
    snaps = sorted((tmp_path / "run" / "anneal_snapshots").glob("*.safetensors"))
    assert len(snaps) >= 2 and result.metrics["final.averaged_snapshots"] == len(snaps)
    tensors = [load_file(str(s)) for s in snaps]
    final = load_model(result.checkpoint)
    expected = sum(t["norm.weight"] for t in tensors) / len(tensors)
    torch.testing.assert_close(final.norm.weight.detach(), expected)
    assert (result.checkpoint / "tokenizer.json").is_file()


def test_gradient_accumulation_matches_one_big_batch(token_data, tmp_path, make_job):
    job = make_job(token_data, tmp_path / "a", initial_tokens=1024, long=False, anneal=False)
    TorchTrainer(CFG).train(job)
    TorchTrainer(replace(CFG, micro_batch_rows=2)).train(replace(job, output_dir=tmp_path / "b"))
    a, b = losses(tmp_path / "a" / "metrics.jsonl"), losses(tmp_path / "b" / "metrics.jsonl")
    assert len(a) == len(b) == 8
    for x, y in zip(a, b):
        assert x[2] == pytest.approx(y[2], abs=1e-4)


def test_sigkilled_run_resumes_bit_identically(token_data, tmp_path, make_job):
    def spec(out, resume=False):
        job = make_job(token_data, out, initial_tokens=3072, long=False)
        job.resume = resume
        path = out.parent / f"{out.name}-{int(resume)}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"job": job_to_dict(job), "trainer": {"checkpoint_every": 4, "average_every": 2,
                                                                        "eval_rows": 4, "threads": 1}}))
        return path

    cmd = [sys.executable, "-m", "herd.plugins.torch_trainer.worker"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd + [str(spec(tmp_path / "whole"))], check=True, env=env, capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cmd + [str(spec(killed))], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        m = killed / "metrics.jsonl"
        if m.exists() and len(m.read_text().splitlines()) >= 11:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "final").exists()
    subprocess.run(cmd + [str(spec(killed, resume=True))], check=True, env=env, capture_output=True)
    assert losses(killed / "metrics.jsonl") == losses(tmp_path / "whole" / "metrics.jsonl")
    a = load_file(str(tmp_path / "whole" / "final" / "model.safetensors"))
    b = load_file(str(killed / "final" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_continued_pretraining_starts_from_a_checkpoint(token_data, tmp_path, make_job):
    first = TorchTrainer(CFG).train(make_job(token_data, tmp_path / "base", initial_tokens=1024, long=False))
    result = continued_pretraining(first.checkpoint, token_data / "long", tmp_path / "cont", tokens=512, seq_len=32,
                                   batch_tokens=128, warmup_steps=1, eval_dir=token_data / "val", trainer_cfg=CFG)
    steps = [m for m in metrics(tmp_path / "cont" / "metrics.jsonl") if "loss" in m]
    base_steps = [m for m in metrics(tmp_path / "base" / "metrics.jsonl") if "loss" in m]
    assert steps[0]["loss"] < base_steps[0]["loss"] - 1.0  # started from the trained weights
    assert load_model(result.checkpoint).cfg.vocab_size == 320


def test_tensorboard_logger_mirrors_the_metrics_file(token_data, tmp_path, make_job):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from herd.core.metrics import read_metrics

    job = replace(make_job(token_data, tmp_path / "tb", initial_tokens=512, long=False, anneal=False),
                  loggers=["tensorboard"])
    TorchTrainer(CFG).train(job)
    steps = read_metrics(tmp_path / "tb" / "metrics.jsonl")
    assert len(steps) == 4 and all(m.tokens_per_s > 0 and m.elapsed_seconds > 0 for m in steps)
    events = EventAccumulator(str(tmp_path / "tb" / "tensorboard"))
    events.Reload()
    logged = {e.step: e.value for e in events.Scalars("train/loss")}
    assert logged == pytest.approx({m.step: m.loss for m in steps}, rel=1e-6)
    # the end-of-stage validation loss is logged at the last step
    assert [e.step for e in events.Scalars("val/loss")] == [steps[-1].step]
    assert events.Scalars("val/loss")[0].value == pytest.approx(steps[-1].val_loss, rel=1e-6)
