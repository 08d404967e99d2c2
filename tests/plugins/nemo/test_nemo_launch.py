"""NeMo-Run job generation, checked on the jobs NeMo-Run itself renders (dry-run)."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from herd.core.app import App
from herd.core.errors import ConfigError, PluginError
from herd.core.hookspecs import hookimpl
from herd.core.plugins import REGISTRY_PATH

pytest.importorskip("nemo_run")

from herd.plugins.nemo.launch import build_nemo_jobs, megatron_bridge_overrides, TrainSpec  # noqa: E402

IMAGE = "nvcr.io/nvidia/nemo:25.09"
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: lab, user: {token: not-a-secret}}]
contexts: [{name: lab, context: {cluster: lab, user: lab}}]
current-context: lab
"""


class PretrainSection:
    """Declares [pretrain] when the torch_trainer plugin (its owner) is not registered."""

    @hookimpl
    def herd_register_config_sections(self, register):
        from herd.plugins.torch_trainer.config import PretrainConfig

        register("pretrain", PretrainConfig)


def pretrain_owner() -> str | None:
    """The registered plugin that declares [pretrain] (the torch backend), if any."""
    entries = tomllib.loads(REGISTRY_PATH.read_text())["plugins"]
    return next((name for name, e in entries.items() if e.get("config_section") == "pretrain"), None)


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    """Only the plugins these tests need: nemo, and the owner of [pretrain] when registered."""
    entries = tomllib.loads(REGISTRY_PATH.read_text())["plugins"]
    path = tmp_path_factory.mktemp("registry") / "registry.toml"
    lines = []
    for name in ("nemo", "curation", "curation_steps", pretrain_owner()):
        if name in entries:
            lines += [f"[plugins.{name}]", f"module = {json.dumps(entries[name]['module'])}",
                      f"config_section = {json.dumps(entries[name].get('config_section', ''))}",
                      "always = true", ""]
    path.write_text("\n".join(lines))
    return path


def make_app(registry: Path, *overrides: str, profile: str = "full") -> App:
    entries = tomllib.loads(registry.read_text()).get("plugins", {})
    owns_pretrain = any(e.get("config_section") == "pretrain" for e in entries.values())
    extra = {} if owns_pretrain else {"pretrain_section": PretrainSection()}
    return App.create(profile=profile, registry_path=registry, entry_points=False, extra_plugins=extra,
                      overrides=["pretrain.trainer=nemo", f"nemo.container_image={IMAGE}", *overrides])


@pytest.fixture(scope="module")
def full_app(registry):
    # The recipe's 8K layout on 1,024 GPUs: TP 8, PP 16, DP 8.
    return make_app(registry, "pretrain.dp=8", "nemo.slurm_account=llm", "nemo.slurm_partition=h100",
                    "nemo.env={NCCL_IB_HCA = \"mlx5\"}")


def test_slurm_job_has_nodes_gpus_image_env_and_command(full_app, tmp_path):
    job = build_nemo_jobs(full_app.config, full_app.registry, "slurm", dry_run=True, run_dir=tmp_path).train
    assert (job.nodes, job.gpus_per_node, job.world_size) == (128, 8, 1024)
    assert job.parallel == {"tp": 8, "cp": 1, "pp": 16, "dp": 8}
    script = job.rendered
    assert "#SBATCH --nodes=128" in script and "#SBATCH --gpus-per-node=8" in script
    assert "#SBATCH --account=llm" in script and "#SBATCH --partition=h100" in script
    assert f"--container-image {IMAGE}" in script
    assert f"--container-mounts {tmp_path}:{tmp_path}" in script
    assert "torchrun" in script and "--nnodes 128 --nproc-per-node 8" in script
    # every rank starts herd's rank entry; only rank 0 runs the pipeline (the others train)
    assert f"-m herd.plugins.nemo.rank_entry run --stages pretrain --config {tmp_path}/nemo_job/pretrain.toml" in script
    assert "export NCCL_IB_HCA=mlx5" in script and "export TORCH_NCCL_ASYNC_ERROR_HANDLING=1" in script
    # the config the ranks read is the resolved herd config
    written = tomllib.loads(job.files["pretrain.toml"])
    assert written["pretrain"]["pp"] == 16 and written["pretrain"]["model_size"] == "405b"
    assert written["pretrain"]["trainer"] == "nemo"


def test_cluster_jobs_need_the_nemo_trainer(registry, tmp_path):
    app = make_app(registry, "pretrain.dp=8", "nemo.slurm_account=llm", "pretrain.trainer=torch")
    with pytest.raises(ConfigError, match="set pretrain.trainer=nemo"):
        build_nemo_jobs(app.config, app.registry, "slurm", dry_run=True, run_dir=tmp_path)


def test_docker_job_single_host(registry, tmp_path):
    app = make_app(registry, "pretrain.tp=4", "pretrain.pp=2", "pretrain.dp=1", "pretrain.model_size=8b")
    job = build_nemo_jobs(app.config, app.registry, "docker", dry_run=True, run_dir=tmp_path).train
    assert (job.nodes, job.gpus_per_node, job.processes_per_node) == (1, 8, 8)
    [container] = yaml.safe_load(job.rendered)["docker"]
    assert container["image"] == IMAGE and container["gpus"] == 8 and container["ipc_mode"] == "host"
    # one process on one host: herd's pretrain stage starts torchrun over the 8 ranks
    assert container["command"].startswith("python /opt/herd/cli.py run --stages curate,mix,pretrain")
    assert f"{tmp_path}:{tmp_path}" in container["volumes"]
    assert container["env"]["HERD_ENGINE"] == "automodel"


def test_docker_refuses_multi_node_layouts(full_app, tmp_path):
    with pytest.raises(ConfigError, match="docker executor runs on one host"):
        build_nemo_jobs(full_app.config, full_app.registry, "docker", dry_run=True, run_dir=tmp_path)


def test_local_job_runs_the_pretrain_stage(registry, tmp_path):
    app = make_app(registry, "pretrain.dp=2", profile="quick")
    job = build_nemo_jobs(app.config, app.registry, "local", dry_run=True, run_dir=tmp_path).train
    assert (job.nodes, job.gpus_per_node, job.processes_per_node, job.world_size) == (1, 0, 2, 2)
    assert job.env["OMP_NUM_THREADS"] == "1"
    cli = str(Path(__file__).resolve().parents[3] / "cli.py")
    # one host: the one job also runs the stages pretrain reads, which the run lacks
    assert job.command == ["python", cli, "run", "--stages", "curate,mix,pretrain", "--config",
                           str(tmp_path / "nemo_job" / "pretrain.toml"), "--run-dir", str(tmp_path), "--resume"]
    assert cli in job.rendered and "'--resume'" in job.rendered


K8S_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {here!r})
from test_nemo_launch import KUBECONFIG, make_app
from herd.plugins.nemo.launch import build_nemo_jobs
app = make_app(Path({registry!r}), "pretrain.dp=8")
try:  # no kubeconfig yet
    build_nemo_jobs(app.config, app.registry, "k8s", dry_run=True, run_dir=Path({run_dir!r}))
except Exception as exc:
    print(f"ERROR {{type(exc).__name__}}: {{exc}}")
Path({kubeconfig!r}).write_text(KUBECONFIG)
print("---")
print(build_nemo_jobs(app.config, app.registry, "k8s", dry_run=True, run_dir=Path({run_dir!r})).train.rendered)
"""


@pytest.mark.slow
def test_k8s_job_is_a_kubeflow_trainjob_and_needs_a_kubeconfig(registry, tmp_path):
    # A fresh process: the kubernetes client reads KUBECONFIG when it is imported.
    kubeconfig = tmp_path / "kubeconfig"
    script = K8S_SCRIPT.format(here=str(Path(__file__).parent), registry=str(registry),
                               run_dir=str(tmp_path / "run"), kubeconfig=str(kubeconfig))
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    missing, rendered = out.stdout.split("---\n", 1)
    assert missing.startswith("ERROR ConfigError") and "needs a kubeconfig" in missing
    manifest = yaml.safe_load(rendered)
    assert manifest["kind"] == "TrainJob"
    trainer = manifest["spec"]["trainer"]
    assert trainer["numNodes"] == 128 and trainer["numProcPerNode"] == 8 and trainer["image"] == IMAGE
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == "8"
    assert {"name": "HERD_ENGINE", "value": "automodel"} in trainer["env"]
    assert "herd.plugins.nemo.rank_entry" in " ".join(trainer["command"] + trainer.get("args", []))


def test_skypilot_without_skypilot_names_the_package(full_app, tmp_path):
    pytest.importorskip("nemo_run")
    import importlib.util

    if importlib.util.find_spec("sky") is not None:
        pytest.skip("SkyPilot is installed here")
    with pytest.raises(PluginError, match="nemo_run\\[skypilot\\]"):
        build_nemo_jobs(full_app.config, full_app.registry, "skypilot", dry_run=True, run_dir=tmp_path)


def test_megatron_bridge_override_matches_the_herd_config(full_app, tmp_path):
    job = build_nemo_jobs(full_app.config, full_app.registry, "slurm", dry_run=True, run_dir=tmp_path, engine="megatron-bridge").train
    override = yaml.safe_load(job.files["megatron_bridge_override.yaml"])
    pre = full_app.config.section("pretrain")
    assert override["model"]["tensor_model_parallel_size"] == 8
    assert override["model"]["pipeline_model_parallel_size"] == 16
    assert override["model"]["context_parallel_size"] == 1
    assert override["model"]["sequence_parallel"] is True
    assert override["model"]["seq_length"] == override["dataset"]["sequence_length"] == 8192
    assert override["train"]["global_batch_size"] == 16 * 2**20 // 8192  # 16M tokens, docs/recipe.md 4.1
    assert override["train"]["train_iters"] == pre.initial_tokens // (16 * 2**20)
    assert override["optimizer"] == {"lr": 8e-5, "min_lr": 8e-7}
    assert override["scheduler"]["lr_warmup_iters"] == 8000
    assert override["scheduler"]["lr_decay_style"] == "cosine"
    assert override["checkpoint"]["save"] == str(tmp_path / "checkpoints")
    # the container job runs Megatron-Bridge's recipe runner with the same values
    assert "run_recipe.py --recipe llama31_405b_pretrain_config" in job.rendered
    assert "model.pipeline_model_parallel_size=16" in job.rendered
    assert "train.global_batch_size=2048" in job.rendered
    assert "export CUDA_DEVICE_MAX_CONNECTIONS=1" in job.rendered


def test_megatron_bridge_refuses_sizes_without_a_recipe_and_local(registry, tmp_path):
    app = make_app(registry, "pretrain.model_size=tiny", "pretrain.dp=8")
    with pytest.raises(ConfigError, match="no Megatron-Bridge Llama 3 recipe"):
        megatron_bridge_overrides(TrainSpec.from_config(app.config), app.config.section("nemo"), "/ckpt")
    with pytest.raises(ConfigError, match="NVIDIA's container"):
        build_nemo_jobs(app.config, app.registry, "local", dry_run=True, run_dir=tmp_path, engine="megatron-bridge")


def test_layout_errors_name_the_key(registry, tmp_path):
    app = make_app(registry, "pretrain.tp=4", "pretrain.pp=3", "pretrain.dp=1")
    with pytest.raises(ConfigError, match="whole number of 8-GPU servers"):
        build_nemo_jobs(app.config, app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    with pytest.raises(ConfigError, match="does not divide over dp=3"):
        TrainSpec.from_config(make_app(registry, "pretrain.dp=3").config)
    app = make_app(registry, "pretrain.tp=16", "pretrain.pp=1", "pretrain.dp=1")
    with pytest.raises(ConfigError, match="tensor parallelism must stay inside a server"):
        build_nemo_jobs(app.config, app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    app = make_app(registry, "pretrain.dp=8", "nemo.container_image=")
    with pytest.raises(ConfigError, match="set nemo.container_image"):
        build_nemo_jobs(app.config, app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    app = make_app(registry, "pretrain.dp=8")
    with pytest.raises(ConfigError, match="set nemo.slurm_account"):
        build_nemo_jobs(app.config, app.registry, "slurm", dry_run=True, run_dir=tmp_path)


@pytest.mark.slow
def test_train_command_dry_run_json(tmp_path):
    if pretrain_owner() is None:
        pytest.skip("the CLI needs the plugin that owns [pretrain] (the torch backend) in registry.toml")
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, str(repo / "cli.py"), "train", "--backend", "nemo", "--profile", "full", "--executor", "slurm",
         "--dry-run", "--json", "--run-dir", str(tmp_path), "--set", f"nemo.container_image={IMAGE}",
         "--set", "pretrain.dp=8", "--set", "nemo.slurm_account=llm"],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)["jobs"][-1]
    assert (job["nodes"], job["gpus_per_node"], job["world_size"]) == (128, 8, 1024)
    assert "#SBATCH --nodes=128" in job["rendered"] and job["container_image"] == IMAGE
    assert 'trainer = "nemo"' in job["files"]["pretrain.toml"]


# initial pretraining only, so that the real jobs below stay short
SHORT = ["--set", "pretrain.long_context_lengths=[]", "--set", "pretrain.anneal_tokens=0",
         "--set", "pretrain.initial_tokens=6000", "--set", "trainers.nemo.threads=1"]


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory) -> Path:
    """A quick-profile run directory with its curate and mix stages done."""
    if pretrain_owner() is None:
        pytest.skip("needs the plugin that owns [pretrain] (the torch backend) in registry.toml")
    pytest.importorskip("nemo_automodel")
    repo = Path(__file__).resolve().parents[3]
    run_dir = tmp_path_factory.mktemp("mixed") / "run"
    prep = subprocess.run([sys.executable, str(repo / "cli.py"), "run", "--profile", "quick", "--stages", "curate,mix",
                           "--run-dir", str(run_dir)], capture_output=True, text=True, timeout=900, cwd=repo)
    assert prep.returncode == 0, prep.stderr[-3000:]
    return run_dir


def _trained_by_nemo(run_dir: Path, dp: int) -> None:
    manifest = json.loads((run_dir / "pretrain" / "manifest.json").read_text())
    assert manifest["counts"]["train_tokens"] > 0 and manifest["counts"]["steps"] > 0
    train = run_dir / "pretrain" / "train"
    latest = (train / "checkpoints" / "latest").read_text().strip()
    import torch

    state = torch.load(train / "checkpoints" / latest / "state.pt", weights_only=False)
    assert state["backend"] == "nemo" and state["parallel"]["dp"] == dp
    assert (run_dir / "pretrain" / "final_model" / "config.json").is_file()


@pytest.mark.slow
def test_local_job_trains_for_real_on_two_ranks(mixed_run, tmp_path):
    """A real NeMo-Run local job: herd's pretrain stage, whose nemo trainer starts torchrun
    over 2 CPU ranks (gloo)."""
    repo = Path(__file__).resolve().parents[3]
    run_dir = tmp_path / "run"
    shutil.copytree(mixed_run, run_dir)
    job = subprocess.run([sys.executable, str(repo / "cli.py"), "train", "--backend", "nemo", "--profile", "quick",
                          "--executor", "local", "--run-dir", str(run_dir), "--set", "pretrain.dp=2", *SHORT],
                         capture_output=True, text=True, timeout=900, cwd=repo)
    assert job.returncode == 0, (job.stdout + job.stderr)[-3000:]
    assert "SUCCEEDED" in job.stdout + job.stderr
    _trained_by_nemo(run_dir, dp=2)


@pytest.mark.slow
def test_cluster_ranks_leave_the_pipeline_to_rank_zero(mixed_run, tmp_path):
    """What a Slurm/Kubeflow launcher runs: the rank entry on every rank of a torchrun job.
    Rank 0 runs the pipeline and hands the TrainJob to rank 1, which only trains."""
    repo = Path(__file__).resolve().parents[3]
    run_dir = tmp_path / "run"
    shutil.copytree(mixed_run, run_dir)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "--log-dir", str(tmp_path / "logs"), "--tee", "3", "-m", "herd.plugins.nemo.rank_entry",
           "run", "--profile", "quick", "--stages", "pretrain", "--run-dir", str(run_dir), "--resume",
           "--set", "pretrain.trainer=nemo", "--set", "pretrain.dp=2", *SHORT]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=repo,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    _trained_by_nemo(run_dir, dp=2)
    logs = {rank: "".join(p.read_text() for p in (tmp_path / "logs").rglob(f"{rank}/std*.log")) for rank in (0, 1)}
    assert "running (plugin" in logs[0] and "running (plugin" not in logs[1]  # only rank 0 ran the stage
    # a second launch finds the stage complete: rank 0 releases rank 1 without training
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=repo,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert again.returncode == 0, again.stderr[-3000:]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _complete(run_dir: Path, *stages: str) -> None:
    """Mark stages as done in a run directory, as the pipeline's manifest does."""
    for stage in stages:
        (run_dir / stage).mkdir(parents=True)
        (run_dir / stage / "manifest.json").write_text(json.dumps({"stage": stage, "output_hash": stage}))


def test_dry_run_writes_nothing(registry, full_app, tmp_path):
    (tmp_path / "keep.txt").write_text("already here")
    before = _tree(tmp_path)
    for executor in ("slurm", "local"):
        app = full_app if executor == "slurm" else make_app(registry, "pretrain.dp=2", profile="quick")
        jobs = build_nemo_jobs(app.config, app.registry, executor, dry_run=True, run_dir=tmp_path / "run")
        assert jobs.train.rendered and jobs.train.files
    assert _tree(tmp_path) == before


def test_jobs_are_named_after_the_run_and_stage(full_app, tmp_path):
    jobs = build_nemo_jobs(full_app.config, full_app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    assert [j.name for j in jobs.jobs] == ["herd-full-curate", "herd-full-pretrain"]
    assert "#SBATCH --job-name=herd-full-pretrain" in jobs.train.rendered
    assert "#SBATCH --job-name=herd-full-curate" in jobs.curate.rendered
    assert "llm-llm" not in jobs.train.rendered


def test_curation_is_its_own_cpu_job_sized_by_the_curation_config(full_app, tmp_path):
    jobs = build_nemo_jobs(full_app.config, full_app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    curate, train = jobs.curate, jobs.train
    assert curate.stages == ["curate", "mix"] and train.stages == ["pretrain"] and train.after == [curate.name]
    assert (curate.nodes, curate.gpus_per_node) == (1, 0)  # curate.executor = local: one node
    assert "#SBATCH --nodes=1" in curate.rendered and "gpus" not in curate.rendered
    assert "torchrun" not in curate.rendered and "--stages curate,mix" in curate.rendered
    assert train.nodes == 128 and "#SBATCH --nodes=128" in train.rendered
    # once the run directory has curate and mix, only the training job is left
    _complete(tmp_path, "curate", "mix")
    jobs = build_nemo_jobs(full_app.config, full_app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    assert [j.name for j in jobs.jobs] == ["herd-full-pretrain"] and jobs.train.after == []


def test_curation_on_a_ray_cluster(registry, tmp_path):
    app = make_app(registry, "pretrain.dp=8", "nemo.slurm_account=llm", "curate.executor=ray",
                   "nemo.curate_nodes=4", "nemo.curate_time=\"02:00:00\"")
    jobs = build_nemo_jobs(app.config, app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    curate = jobs.curate
    assert curate.nodes == 4 and curate.gpus_per_node == 0
    script = curate.rendered
    assert "#SBATCH --nodes=4" in script and "#SBATCH --time=02:00:00" in script
    assert "#SBATCH --job-name=herd-full-curate" in script and "ray start" in script
    assert "python /opt/herd/cli.py run --stages curate,mix" in script
    assert tomllib.loads(curate.files["curate.toml"])["curate"]["ray_address"] == "auto"
    assert _tree(tmp_path) == []
    with pytest.raises(ConfigError, match="curate.executor = 'ray'"):
        bad = make_app(registry, "pretrain.dp=8", "nemo.curate_nodes=4")
        build_nemo_jobs(bad.config, bad.registry, "slurm", dry_run=True, run_dir=tmp_path)
    with pytest.raises(ConfigError, match="with the k8s executor start a Ray cluster yourself"):
        build_nemo_jobs(app.config, app.registry, "k8s", dry_run=True, run_dir=tmp_path)


def test_job_config_carries_only_its_stages_sections(full_app, tmp_path):
    from herd.core.config import load_config

    jobs = build_nemo_jobs(full_app.config, full_app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    pretrain = tomllib.loads(jobs.train.files["pretrain.toml"])
    assert set(pretrain) == {"run", "pretrain", "trainers"}
    assert set(pretrain["trainers"]) >= {"nemo"}
    curate = tomllib.loads(jobs.curate.files["curate.toml"])
    assert {"run", "curate", "mix", "filters", "mixers"} <= set(curate) and "pretrain" not in curate
    assert not {"nemo", "sandbox", "report", "evaluate"} & (set(pretrain) | set(curate))
    # the job's ranks load it back to the same values, so the stage's cache key is unchanged
    path = tmp_path / "pretrain.toml"
    path.write_text(jobs.train.files["pretrain.toml"])
    loaded = load_config(full_app.registry, file=path)
    sections = ("pretrain", "trainers")
    assert loaded.subset_hash(sections) == full_app.config.subset_hash(sections)


def test_stock_nemo_image_is_warned_about(registry, tmp_path):
    app = make_app(registry, "pretrain.dp=8", "nemo.slurm_account=llm")  # IMAGE: the stock NeMo image
    [warning] = build_nemo_jobs(app.config, app.registry, "slurm", dry_run=True, run_dir=tmp_path).warnings
    assert "stock NeMo image" in warning and "build-image" in warning and "nemo.container_image" in warning
    app = make_app(registry, "pretrain.dp=8", "nemo.slurm_account=llm", "nemo.container_image=reg.example/herd:1")
    jobs = build_nemo_jobs(app.config, app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    assert jobs.warnings == [] and "--container-image reg.example/herd:1" in jobs.train.rendered


def test_dry_run_text_shows_the_jobs_first_and_the_config_on_request(full_app, tmp_path):
    from herd.plugins.nemo.train_command import describe

    jobs = build_nemo_jobs(full_app.config, full_app.registry, "slurm", dry_run=True, run_dir=tmp_path)
    text = describe(jobs)
    assert text.index("job herd-full-curate") < text.index("job herd-full-pretrain") < text.index("#!/bin/bash")
    assert "nodes    128 x 8 GPU(s)" in text and "[pretrain]" not in text
    assert "WARNING: nemo.container_image" in text.splitlines()[1]
    shown = describe(jobs, show_config=True)
    assert "[pretrain]" in shown and f"--- {tmp_path}/nemo_job/pretrain.toml ---" in shown
