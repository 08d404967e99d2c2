import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from herd.core.errors import ConfigError
from herd.plugins.nemo.planner import (
    MODELS,
    Checkpointing,
    Hardware,
    InfeasibleLayout,
    Layout,
    activation_bytes_per_token,
    evaluate_layout,
    flops_per_token,
    memory_gib,
    plan_layout,
)

REPO = Path(__file__).resolve().parents[3]


def layout_of(plan):
    lay = plan.layout
    return lay.tp, lay.cp, lay.pp, lay.dp


# The Llama 3 paper's Table 4 layouts (docs/recipe.md section 3), 16M-token batches on H100 80GB.
@pytest.mark.parametrize(
    "seq, gpus, expected",
    [(8192, 8192, (8, 1, 16, 64)), (8192, 16384, (8, 1, 16, 128)), (131072, 16384, (8, 16, 16, 8))],
)
def test_planner_reproduces_llama3_layouts(seq, gpus, expected):
    plan = plan_layout("405b", seq, gpus, 80)
    assert layout_of(plan) == expected
    assert plan.memory_total_gib <= 80
    assert 0.3 < plan.mfu_ceiling < 1.0
    # the paper's per-DP batch: 32 sequences at 8K on 8,192 GPUs, 16 otherwise
    assert plan.micro_batches * plan.layout.micro_batch == plan.batch_tokens // seq // plan.layout.dp


def test_model_shapes_match_recipe_and_llama_plugin():
    m = MODELS["405b"]
    assert (m.n_layers, m.dim, m.ffn_dim, m.n_heads, m.n_kv_heads, m.vocab_size) == (126, 16384, 53248, 128, 8, 128256)
    assert 400e9 < m.params < 410e9
    model = pytest.importorskip("herd.lib.llama.model")
    for name, shape in MODELS.items():
        cfg = model.SIZES[name]
        assert (cfg.n_layers, cfg.dim, cfg.ffn_dim, cfg.n_heads, cfg.n_kv_heads, cfg.vocab_size) == (
            shape.n_layers, shape.dim, shape.ffn_dim, shape.n_heads, shape.n_kv_heads, shape.vocab_size)
        assert cfg.num_params() == shape.params


def test_memory_terms_follow_the_layout():
    m, hw = MODELS["405b"], Hardware()
    base = Layout(tp=8, cp=1, pp=16, dp=64, micro_batch=1, virtual_stages=8)
    mem = memory_gib(m, 8192, base, hw, Checkpointing(), 32)
    # bf16 weights of 8 layers + the embedding, split over TP 8
    assert mem["weights_bf16"] == pytest.approx(2 * (8 * m.layer_params + m.embedding_params) / 8 / 2**30)
    assert mem["grad_accum_fp32"] == pytest.approx(2 * mem["weights_bf16"])
    # optimizer state is sharded over dp (FSDP): doubling dp halves it
    wider = memory_gib(m, 8192, replace(base, dp=128), hw, Checkpointing(), 32)
    assert wider["optimizer_fp32"] == pytest.approx(mem["optimizer_fp32"] / 2)
    # context parallelism halves the tokens, hence the activations, per GPU
    cp2 = memory_gib(m, 8192, replace(base, cp=2), hw, Checkpointing(), 32)
    assert cp2["activations"] == pytest.approx(mem["activations"] / 2)
    # checkpointing levels only ever reduce activation memory
    selective = memory_gib(m, 8192, base, hw, Checkpointing(selective=True), 32)["activations"]
    full = memory_gib(m, 8192, base, hw, Checkpointing(selective=True, full_layers=8), 32)["activations"]
    assert full < selective < mem["activations"]
    assert activation_bytes_per_token(m, selective=True) < activation_bytes_per_token(m)


def test_more_micro_batches_shrink_the_pipeline_bubble():
    few = evaluate_layout("405b", 8192, Layout(8, 1, 16, 64, 2, 8))
    many = evaluate_layout("405b", 8192, Layout(8, 1, 16, 64, 1, 8))
    assert few.micro_batches == 16 and many.micro_batches == 32
    assert many.time_s["pipeline_bubble"] < few.time_s["pipeline_bubble"]
    assert evaluate_layout("405b", 8192, Layout(8, 1, 16, 64, 1, 8)).time_s["cp_comm"] == 0
    assert flops_per_token(MODELS["8b"], 8192) > 6 * 7e9


def test_gpu_count_not_a_whole_number_of_servers_names_nearest():
    with pytest.raises(InfeasibleLayout) as err:
        plan_layout("405b", 8192, 12345, 80)
    assert "not a whole number of 8-GPU servers" in str(err.value)
    assert err.value.nearest is not None and err.value.nearest.gpus % 8 == 0
    assert abs(err.value.nearest.gpus - 12345) < 200
    assert "nearest feasible" in str(err.value)


def test_model_that_does_not_fit_gets_reason_and_nearest():
    with pytest.raises(InfeasibleLayout) as err:
        plan_layout("405b", 8192, 8, 80)
    assert "does not fit in 80 GiB per GPU on 8 GPUs" in str(err.value)
    nearest = err.value.nearest
    assert nearest.gpus > 8 and nearest.memory_total_gib <= 80


def test_bad_requests_are_config_errors():
    with pytest.raises(ConfigError, match="whole number"):
        plan_layout("8b", 3000, 8, 80)
    with pytest.raises(ConfigError, match="unknown model size"):
        plan_layout("13b", 8192, 8, 80)
    with pytest.raises(ConfigError, match="must be positive"):
        plan_layout("8b", 8192, 0, 80)


def test_plan_command_prints_json():
    out = subprocess.run(
        [sys.executable, str(REPO / "cli.py"), "plan", "--model", "405b", "--seq", "8192", "--gpus", "16384",
         "--gpu-memory", "80", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["tp"], data["cp"], data["pp"], data["dp"]) == (8, 1, 16, 128)
    assert data["memory_total_gib"] <= 80 and 0 < data["mfu_ceiling"] < 1
    assert set(data["memory_gib"]) >= {"weights_bf16", "grad_accum_fp32", "optimizer_fp32", "activations"}


def test_plan_command_infeasible_exits_with_config_error():
    out = subprocess.run(
        [sys.executable, str(REPO / "cli.py"), "plan", "--model", "405b", "--seq", "8192", "--gpus", "8"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 2
    assert "does not fit" in out.stderr and "nearest feasible" in out.stderr
