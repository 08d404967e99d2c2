"""Build NeMo-Run jobs from a herd config: the same ``[pretrain]`` section that the torch
backend trains, submitted locally (torchrun), to Docker, Slurm, Kubernetes (Kubeflow
TrainJob) or SkyPilot.

``build_nemo_jobs`` creates real ``nemo_run`` objects (``run.Script`` +
``run.<Kind>Executor`` in a ``run.Experiment``) and asks NeMo-Run for its dry-run: the
sbatch script, the Docker request, the TrainJob manifest or the local torchrun command it
would submit. ``submit`` launches that experiment for real.

A job carries only what its stages need (``job_config``): its config file holds the
sections of the stages it runs. On a cluster, the stages the training job reads and the
run directory lacks (curate, mix) are their own CPU job sized by the curation config
(``curation_job``), which the training job waits for; on one host (local, docker) the
one job runs them before ``pretrain``. Cluster jobs run herd inside
``nemo.container_image``, which ``herd build-image`` builds (``image``).

Two engines: ``automodel`` runs herd's own ``pretrain`` stage on every rank (herd's loop
with NeMo AutoModel components, issue 10); ``megatron-bridge`` writes a Megatron-Bridge
Llama 3 recipe override equal to the herd config and runs Megatron-Bridge's
``run_recipe.py`` in its container, out of process (Python 3.12 + Transformer Engine,
which herd's own environment does not have).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herd.core import atomic
from herd.core.errors import ConfigError, PluginError
from herd.plugins.nemo.config import ENGINES, EXECUTORS, NemoConfig
from herd.plugins.nemo.curation_job import CurationSize, curation_size, ray_cluster
from herd.plugins.nemo.curation_job import config_overrides as curation_overrides
from herd.plugins.nemo.image import is_stock_image, stock_image_warning
from herd.plugins.nemo.job_config import job_config_toml, missing_inputs

HERD_ROOT = Path(__file__).resolve().parent.parent.parent

# Executors whose launcher starts the command on every rank (local and docker start one
# process, whose pretrain stage starts torchrun itself).
CLUSTER_EXECUTORS = ("slurm", "k8s", "skypilot")
RANK_ENTRY = "herd.plugins.nemo.rank_entry"

# Megatron-Bridge's library recipes for docs/recipe.md section 2's sizes.
MEGATRON_BRIDGE_RECIPES = {
    "8b": "llama3_8b_pretrain_config",
    "70b": "llama3_70b_pretrain_config",
    "405b": "llama31_405b_pretrain_config",
}


@dataclass(frozen=True)
class TrainSpec:
    """What a launched job trains, read from ``[pretrain]`` (the torch backend's section):
    the initial pretraining stage after its batch ramp (docs/recipe.md section 4.1)."""

    model_size: str
    seq_len: int
    batch_tokens: int
    tokens: int
    warmup_steps: int
    lr_peak: float
    lr_floor: float
    tp: int
    cp: int
    pp: int
    dp: int

    @property
    def world_size(self) -> int:
        return self.tp * self.cp * self.pp * self.dp

    @property
    def global_batch(self) -> int:
        return self.batch_tokens // self.seq_len

    @property
    def train_iters(self) -> int:
        return max(1, self.tokens // self.batch_tokens)

    @classmethod
    def from_config(cls, config) -> "TrainSpec":
        if not config.has_section("pretrain"):
            raise ConfigError(
                "the nemo backend trains the [pretrain] section, which no active plugin declares; "
                "activate the torch_trainer plugin (it owns [pretrain])"
            )
        pre = config.section("pretrain")
        # The ramp's last step is what most of the tokens are trained with (16M x 8K in full).
        seq_len = pre.ramp_seq_len[-1] if pre.ramp_seq_len else pre.seq_len
        batch_tokens = pre.ramp_batch_tokens[-1] if pre.ramp_batch_tokens else pre.batch_tokens
        spec = cls(
            model_size=pre.model_size, seq_len=seq_len, batch_tokens=batch_tokens,
            tokens=pre.initial_tokens, warmup_steps=pre.warmup_steps, lr_peak=pre.lr_peak,
            lr_floor=pre.lr_floor, tp=pre.tp, cp=pre.cp, pp=pre.pp, dp=pre.dp,
        )
        for key in ("tp", "cp", "pp", "dp", "seq_len", "batch_tokens"):
            if getattr(spec, key) < 1:
                raise ConfigError(f"config key 'pretrain.{key}' must be at least 1, got {getattr(spec, key)}")
        if spec.batch_tokens % spec.seq_len:
            raise ConfigError(
                f"pretrain: a batch of {spec.batch_tokens} tokens is not a whole number of "
                f"{spec.seq_len}-token sequences"
            )
        if spec.global_batch % spec.dp:
            raise ConfigError(
                f"pretrain: the global batch of {spec.global_batch} sequences does not divide over dp={spec.dp}"
            )
        return spec


@dataclass
class NemoJob:
    """One NeMo-Run job as it would be submitted. ``rendered`` is NeMo-Run's own dry-run
    output for the executor (sbatch script, Docker request, TrainJob manifest, local
    command); ``files`` are written under ``job_dir`` only when the job is submitted.
    ``processes_per_node`` counts training ranks: on one host (local, docker) NeMo-Run
    starts one process and herd's pretrain stage starts torchrun over them; on clusters
    NeMo-Run's torchrun launcher starts them on every node. ``after`` names the jobs this
    one waits for (Slurm ``afterok``)."""

    name: str
    stages: list[str]
    executor: str
    engine: str
    nodes: int
    gpus_per_node: int  # 0 for CPU processes (local ranks, the curation job)
    processes_per_node: int
    world_size: int
    parallel: dict[str, int]
    container_image: str | None
    env: dict[str, str]
    command: list[str]
    job_dir: Path
    files: dict[str, str] = field(default_factory=dict)
    rendered: str = ""
    after: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["job_dir"] = str(self.job_dir)
        return data


@dataclass
class NemoJobs:
    """What ``herd train`` submits: the curation job when the run directory lacks the
    stages the training job reads (cluster executors only), then the training job.
    ``warnings`` are problems the submission would meet (a stock image without herd)."""

    jobs: list[NemoJob]
    warnings: list[str] = field(default_factory=list)
    _experiment: Any = field(default=None, repr=False, compare=False)
    _ray: Any = field(default=None, repr=False, compare=False)  # the curation job's Ray cluster

    @property
    def train(self) -> NemoJob:
        return self.jobs[-1]

    @property
    def curate(self) -> NemoJob | None:
        return self.jobs[0] if len(self.jobs) > 1 else None

    def to_dict(self) -> dict[str, Any]:
        return {"jobs": [job.to_dict() for job in self.jobs], "warnings": list(self.warnings)}


def _require_nemo_run():
    if importlib.util.find_spec("nemo_run") is None:
        raise PluginError(
            "the nemo backend launches jobs with NeMo-Run, which is not installed; "
            "install it with: bash plugins/nemo/install.sh (nemo-run==0.11.1 with leptonai==0.27.3)"
        )
    import nemo_run

    return nemo_run


def _layout(spec: TrainSpec, nemo: NemoConfig, executor: str) -> tuple[int, int, int]:
    """(nodes, GPUs per node, processes per node) for ``spec.world_size`` ranks."""
    world = spec.world_size
    if executor == "local":
        return 1, 0, world
    gpn = nemo.gpus_per_node
    if gpn < 1:
        raise ConfigError(f"config key 'nemo.gpus_per_node' must be at least 1, got {gpn}")
    if spec.tp > gpn:
        raise ConfigError(
            f"pretrain.tp={spec.tp} spans more than one server of nemo.gpus_per_node={gpn} GPUs; "
            "tensor parallelism must stay inside a server (docs/recipe.md section 3)"
        )
    if world <= gpn:
        return 1, world, world
    if world % gpn:
        raise ConfigError(
            f"tp*cp*pp*dp = {world} GPUs is not a whole number of {gpn}-GPU servers; change "
            f"pretrain.dp (or run `herd plan` for a layout)"
        )
    if executor == "docker":
        raise ConfigError(
            f"the docker executor runs on one host, but the layout needs {world // gpn} servers of "
            f"{gpn} GPUs; use slurm, k8s or skypilot"
        )
    return world // gpn, gpn, gpn


def _environment(nemo: NemoConfig, engine: str, executor: str) -> dict[str, str]:
    env = {"PYTHONUNBUFFERED": "1", "HERD_ENGINE": engine}
    if executor == "local":
        env["OMP_NUM_THREADS"] = "1"  # several CPU ranks share the cores
    else:
        env["TORCH_NCCL_ASYNC_ERROR_HANDLING"] = "1"  # a dead rank ends the job, not a hang
        if engine == "megatron-bridge":
            env["CUDA_DEVICE_MAX_CONNECTIONS"] = "1"  # Megatron's TP/SP comm overlap needs it
    env.update(nemo.env)
    return env


def megatron_bridge_overrides(spec: TrainSpec, nemo: NemoConfig, checkpoint_dir: str) -> dict[str, Any]:
    """The Megatron-Bridge ``ConfigContainer`` fields equal to the herd config."""
    if spec.model_size not in MEGATRON_BRIDGE_RECIPES:
        raise ConfigError(
            f"pretrain.model_size='{spec.model_size}' has no Megatron-Bridge Llama 3 recipe "
            f"(the megatron-bridge engine supports {', '.join(MEGATRON_BRIDGE_RECIPES)})"
        )
    recompute = {
        "none": {"recompute_granularity": None},
        "selective": {"recompute_granularity": "selective"},
        "full": {"recompute_granularity": "full", "recompute_method": "uniform", "recompute_num_layers": 1},
    }
    if nemo.recompute not in recompute:
        raise ConfigError(f"config key 'nemo.recompute' must be one of {sorted(recompute)}, got '{nemo.recompute}'")
    if spec.global_batch % (spec.dp * nemo.micro_batch):
        raise ConfigError(
            f"the global batch of {spec.global_batch} sequences does not divide into dp={spec.dp} x "
            f"nemo.micro_batch={nemo.micro_batch}"
        )
    dataset: dict[str, Any] = {"sequence_length": spec.seq_len}
    if nemo.data_path:
        dataset["data_path"] = list(nemo.data_path)
    return {
        "model": {
            "tensor_model_parallel_size": spec.tp,
            "context_parallel_size": spec.cp,
            "pipeline_model_parallel_size": spec.pp,
            "sequence_parallel": spec.tp > 1,
            "seq_length": spec.seq_len,
            **recompute[nemo.recompute],
        },
        "train": {
            "global_batch_size": spec.global_batch,
            "micro_batch_size": nemo.micro_batch,
            "train_iters": spec.train_iters,
        },
        "optimizer": {"lr": spec.lr_peak, "min_lr": spec.lr_floor},
        "scheduler": {
            "lr_decay_style": "cosine",
            "lr_warmup_iters": spec.warmup_steps,
            "lr_decay_iters": spec.train_iters,
        },
        "dataset": dataset,
        "checkpoint": {"save": checkpoint_dir, "load": checkpoint_dir},
    }


def _dotlist(tree: dict[str, Any], prefix: str = "") -> list[str]:
    """``{"model": {"seq_length": 8}}`` -> ``["model.seq_length=8"]`` (Hydra-style overrides)."""
    items: list[str] = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            items += _dotlist(value, path + ".")
        elif value is None:
            items.append(f"{path}=null")
        elif isinstance(value, bool):
            items.append(f"{path}={'true' if value else 'false'}")
        elif isinstance(value, list):
            items.append(f"{path}=[{','.join(str(v) for v in value)}]")
        else:
            items.append(f"{path}={value}")
    return items


def _yaml(tree: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(tree, sort_keys=False)


def build_nemo_jobs(config, registry, executor: str | None = None, dry_run: bool = True, *,
                    run_dir: Path, engine: str | None = None) -> NemoJobs:
    """Build the NeMo-Run experiment for ``config`` (a resolved ``herd.core.config.Config``
    with the ``registry`` of its plugins) and fill each job's ``rendered`` with NeMo-Run's
    dry-run. A dry run writes nothing (NeMo-Run's experiment folder is a temporary one);
    with ``dry_run=False`` the jobs' files are written under ``run_dir/nemo_job`` and
    ``submit(jobs)`` launches them. ``run_dir`` holds the jobs' files and checkpoints; for
    container executors it must be shared storage, mounted at the same path."""
    nemo: NemoConfig = config.section("nemo")
    executor = executor or nemo.executor
    engine = engine or nemo.engine
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown NeMo-Run executor '{executor}' (known: {', '.join(EXECUTORS)})")
    if engine not in ENGINES:
        raise ConfigError(f"unknown nemo engine '{engine}' (known: {', '.join(ENGINES)})")
    spec = TrainSpec.from_config(config)
    trainer = config.section("pretrain").trainer
    if engine == "automodel" and executor in CLUSTER_EXECUTORS and trainer != "nemo":
        raise ConfigError(
            f"the {executor} executor starts every rank itself, which herd supports with the nemo trainer; "
            f"set pretrain.trainer=nemo (herd train --backend nemo), not '{trainer}'"
        )
    nodes, gpn, procs = _layout(spec, nemo, executor)
    if executor != "local" and not nemo.container_image:
        raise ConfigError(
            f"the {executor} executor runs a container with herd in it: build one with "
            "`python cli.py build-image --tag REGISTRY/herd:TAG` and set nemo.container_image"
        )
    if engine == "megatron-bridge" and executor == "local":
        raise ConfigError(
            "the megatron-bridge engine runs in NVIDIA's container (Python 3.12, Transformer Engine); "
            "use --executor docker, slurm, k8s or skypilot"
        )
    run = _require_nemo_run()
    run_dir = Path(run_dir).resolve()
    job_dir = run_dir / "nemo_job"
    warnings = []
    if engine == "automodel" and executor != "local" and is_stock_image(nemo.container_image):
        warnings.append(stock_image_warning(nemo.container_image, nemo.herd_dir))
    # Megatron-Bridge reads its own data (nemo.data_path or mock data), not herd's mix.
    before = missing_inputs(registry, run_dir, "pretrain") if engine == "automodel" else []
    one_host = executor not in CLUSTER_EXECUTORS
    prefix = f"herd-{_slug(config.run.name)}-"
    jobs = NemoJobs([], warnings)
    tasks = []  # (job, run.Script, executor) added to the experiment, in submission order
    curation = None if one_host or not before else curation_size(config, nemo, executor)
    if curation is not None:
        curate_job, curate_script = _curation_job(run, config, registry, nemo, curation, before, executor,
                                                  prefix, run_dir, job_dir)
        jobs.jobs.append(curate_job)
        if curation.ray:  # its own sbatch script (NeMo-Run's Ray template), rendered already
            jobs._ray = _curation_ray(run, nemo, curation, curate_job, prefix, run_dir, job_dir)
        else:
            tasks.append((curate_job, curate_script, _executor(run, nemo, executor, curate_job, run_dir, prefix)))
    stages = [*before, "pretrain"] if one_host else ["pretrain"]
    env = _environment(nemo, engine, executor)
    files, script = _script(run, config, registry, spec, nemo, engine, executor, run_dir, job_dir, env, stages)
    train = NemoJob(
        name=f"{prefix}pretrain", stages=stages, executor=executor, engine=engine, nodes=nodes,
        gpus_per_node=gpn, processes_per_node=procs, world_size=spec.world_size,
        parallel={"tp": spec.tp, "cp": spec.cp, "pp": spec.pp, "dp": spec.dp},
        container_image=nemo.container_image or None, env=env, command=_command(script), job_dir=job_dir,
        files=files, after=[j.name for j in jobs.jobs],
    )
    jobs.jobs.append(train)
    tasks.append((train, script, _executor(run, nemo, executor, train, run_dir, prefix)))
    if not dry_run:
        for job in jobs.jobs:
            for name, text in job.files.items():
                atomic.write_text(job_dir / name, text)
    with contextlib.ExitStack() as stack:
        # NeMo-Run creates the experiment's folder at once: a dry run's is a temporary one.
        base = stack.enter_context(tempfile.TemporaryDirectory()) if dry_run else str(job_dir / "nemo_run")
        experiment = run.Experiment(f"herd-{executor}", base_dir=base, clean_mode=True)
        with experiment, _nemo_run_io():
            for job, task, task_executor in tasks:
                experiment.add(task, executor=task_executor, name=job.name.removeprefix(prefix))
            if dry_run:
                experiment.dryrun(log=False)
                for (job, _, task_executor), added in zip(tasks, experiment.jobs):
                    job.rendered = _render(added, task_executor)
    jobs._experiment = None if dry_run else experiment
    return jobs


def _command(script) -> list[str]:
    return [script.entrypoint, *(["-m"] if script.m else []), script.path, *script.args]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"


def _curation_job(run, config, registry, nemo: NemoConfig, size: CurationSize, stages: list[str],
                  executor: str, prefix: str, run_dir: Path, job_dir: Path):
    """The job that runs the stages the training job reads (curate, mix) on CPU nodes."""
    env = {"PYTHONUNBUFFERED": "1", **nemo.env}
    config_path = job_dir / "curate.toml"
    args = ["run", "--stages", ",".join(stages), "--config", str(config_path), "--run-dir", str(run_dir), "--resume"]
    script = run.Script(path=f"{nemo.herd_dir}/cli.py", entrypoint="python", args=args, env=env)
    job = NemoJob(
        name=f"{prefix}curate", stages=list(stages), executor=executor, engine="curation", nodes=size.nodes,
        gpus_per_node=0, processes_per_node=1, world_size=size.nodes, parallel={},
        container_image=nemo.container_image, env=env, command=_command(script), job_dir=job_dir,
        files={config_path.name: job_config_toml(config, registry, stages, curation_overrides(size))},
    )
    return job, script


def _curation_ray(run, nemo: NemoConfig, size: CurationSize, job: NemoJob, prefix: str, run_dir: Path,
                  job_dir: Path):
    with _nemo_run_io():
        cluster, job.rendered = ray_cluster(
            run, nemo, size, name=job.name.removeprefix(prefix), prefix=prefix, command=job.command,
            env=job.env, mounts=_mounts(nemo, run_dir), tunnel_dir=str(job_dir / "slurm"),
        )
    return cluster


@contextlib.contextmanager
def _nemo_run_io():
    """NeMo-Run's Slurm tunnel runs shell commands through ``invoke``, which mirrors the
    caller's stdin into them: a job build must not consume (or block on) the user's input.
    Its console notes go to stderr, so that stdout holds only herd's output (``--json``)."""
    saved = sys.stdin
    with open(os.devnull) as devnull, contextlib.redirect_stdout(sys.stderr):
        sys.stdin = devnull
        try:
            yield
        finally:
            sys.stdin = saved


def submit(jobs: NemoJobs, wait: bool | None = None) -> str:
    """Launch jobs built with ``dry_run=False`` and return NeMo-Run's state of the training
    job (``SUCCEEDED``, ``FAILED``... once waited for; ``SUBMITTED``/``RUNNING`` when
    detached). A curation job on a Ray cluster is submitted first and the training job
    waits for it (Slurm ``afterok``); jobs in one experiment run in order (Slurm
    dependencies; other executors wait for each job). Local jobs are waited for with their
    logs followed; cluster jobs are left running."""
    if jobs._experiment is None:
        raise ConfigError("submit() needs jobs from build_nemo_jobs(..., dry_run=False)")
    train = jobs.train
    wait = train.executor == "local" if wait is None else wait
    experiment = jobs._experiment
    with experiment:
        if jobs._ray is not None:
            with _nemo_run_io():
                ray_job = jobs._ray.create(command=" ".join(jobs.jobs[0].command))
            # NeMo-Run reads a Slurm job id from a handle's second path part.
            experiment.jobs[-1].executor.dependencies = [f"slurm_tunnel://nemo_run/{ray_job}"]
        experiment.run(detach=not wait, tail_logs=wait, sequential=len(experiment.jobs) > 1)
    return str(experiment.jobs[-1].state).rsplit(".", 1)[-1]


def _script(run, config, registry, spec: TrainSpec, nemo: NemoConfig, engine: str, executor: str,
            run_dir: Path, job_dir: Path, env: dict[str, str], stages: list[str]):
    """The files the training job needs and the ``run.Script`` every rank runs."""
    config_path = job_dir / "pretrain.toml"
    files = {config_path.name: job_config_toml(config, registry, stages)}
    if engine == "megatron-bridge":
        overrides = megatron_bridge_overrides(spec, nemo, str(run_dir / "checkpoints"))
        recipe = MEGATRON_BRIDGE_RECIPES[spec.model_size]
        dataset = "megatron-indexed" if nemo.data_path else "mock"
        args = ["--recipe", recipe, "--mode", "pretrain", "--dataset", dataset, *_dotlist(overrides)]
        files["megatron_bridge_override.yaml"] = (
            f"# Megatron-Bridge recipe {recipe}, overridden to match the herd config\n" + _yaml(overrides))
        path = f"{nemo.megatron_bridge_dir}/scripts/training/run_recipe.py"
        return files, run.Script(path=path, entrypoint="python", args=args, env=env)
    herd_dir = str(HERD_ROOT) if executor == "local" else nemo.herd_dir
    args = ["run", "--stages", ",".join(stages), "--config", str(config_path), "--run-dir", str(run_dir), "--resume"]
    if executor in CLUSTER_EXECUTORS:
        # Every rank runs this; only rank 0 runs herd's pipeline (rank_entry explains why).
        return files, run.Script(path=RANK_ENTRY, m=True, entrypoint="python", args=args, env=env)
    return files, run.Script(path=f"{herd_dir}/cli.py", entrypoint="python", args=args, env=env)


def _mounts(nemo: NemoConfig, run_dir: Path) -> list[str]:
    return [f"{run_dir}:{run_dir}", *nemo.mounts]


def _executor(run, nemo: NemoConfig, executor: str, job: NemoJob, run_dir: Path, prefix: str):
    # No packaging: the container already has herd (nemo.herd_dir) or Megatron-Bridge, and
    # the job's files live in the mounted run directory.
    packager = run.Packager()
    if executor == "local":
        # One process: herd's pretrain stage starts torchrun over the local ranks itself, so
        # that one process does the stage's bookkeeping (the run directory is not shared by
        # ranks). One rank needs no torchrun at all.
        return run.LocalExecutor(ntasks_per_node=1, env_vars=job.env)
    if executor == "docker":  # one host, like local: the stage starts torchrun
        return run.DockerExecutor(
            container_image=nemo.container_image, num_gpus=job.gpus_per_node,
            ntasks_per_node=1, env_vars=job.env,
            volumes=_mounts(nemo, run_dir), ipc_mode="host", packager=packager,
        )
    if executor == "slurm":
        if not nemo.slurm_account:  # NeMo-Run names the job after it
            raise ConfigError("the slurm executor needs the account to charge: set nemo.slurm_account")
        return run.SlurmExecutor(
            account=nemo.slurm_account, partition=nemo.slurm_partition or None,
            nodes=job.nodes, ntasks_per_node=job.processes_per_node, gpus_per_node=job.gpus_per_node or None,
            container_image=nemo.container_image, container_mounts=_mounts(nemo, run_dir),
            time=nemo.curate_time if job.engine == "curation" else nemo.slurm_time,
            launcher="torchrun" if job.gpus_per_node else None, env_vars=job.env, packager=packager,
            job_name_prefix=prefix, tunnel=run.LocalTunnel(job_dir=str(job.job_dir / "slurm")),
        )
    if executor == "k8s":
        return _kubeflow(run, nemo, job, packager)
    return _skypilot(run, nemo, job, packager)


def _kubeflow(run, nemo: NemoConfig, job: NemoJob, packager):
    if importlib.util.find_spec("kubernetes") is None:
        raise PluginError("the k8s executor needs the kubernetes client: pip install 'nemo_run[kubeflow]'")
    try:
        return run.KubeflowExecutor(
            image=nemo.container_image, num_nodes=job.nodes, nprocs_per_node=job.processes_per_node,
            gpus_per_node=job.gpus_per_node, namespace=nemo.k8s_namespace, env_vars=job.env,
            packager=packager,
        )
    except Exception as exc:  # kubernetes.config.ConfigException: no kubeconfig to load
        raise ConfigError(
            f"the k8s executor (a Kubeflow TrainJob) needs a kubeconfig, even for --dry-run: NeMo-Run "
            f"loads it when the executor is created ({type(exc).__name__}: {exc}); set KUBECONFIG"
        ) from None


def _skypilot(run, nemo: NemoConfig, job: NemoJob, packager):
    if importlib.util.find_spec("sky") is None:
        raise PluginError(
            "the skypilot executor needs SkyPilot (pip install 'nemo_run[skypilot]'); NeMo-Run "
            "builds its SkyPilot task with it, also for --dry-run"
        )
    return run.SkypilotExecutor(
        container_image=nemo.container_image, gpus="H100" if job.gpus_per_node else None,
        gpus_per_node=job.gpus_per_node or None, num_nodes=job.nodes, env_vars=job.env, packager=packager,
        launcher="torchrun" if job.gpus_per_node else None,
    )


def _render(added, nemo_executor) -> str:
    """NeMo-Run's dry-run of one job of the experiment, as the text its scheduler gets.
    ``Job._dryrun_info`` is where NeMo-Run 0.11 keeps it (pinned in the nemo extra)."""
    info = added._dryrun_info
    request = info.request
    kind = type(request).__name__
    if kind == "SlurmBatchRequest":
        return request.materialize()
    if kind == "KubeflowJobRequest":
        return _yaml(nemo_executor.get_job_body(_k8s_name(request.name), request.cmd))
    if kind == "DockerJobRequest":
        containers = [
            {"name": c.name, "image": c.executor.container_image, "command": " ".join(c.command),
             "env": c.extra_env, "volumes": c.executor.volumes, "gpus": c.executor.num_gpus,
             "ipc_mode": c.executor.ipc_mode}
            for c in request.containers
        ]
        return _yaml({"docker": containers})
    return str(info)


def _k8s_name(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:52] or "herd-pretrain"
