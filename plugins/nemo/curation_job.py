"""The curation job of a cluster launch: the ``curate`` and ``mix`` stages the training
job reads, sized by the curation config, not by the training layout.

``curate.executor = "local"`` curates on one node (``curate.workers`` processes, 0 =
every core), without GPUs. ``curate.executor = "ray"`` curates on a Ray cluster of
``nemo.curate_nodes`` CPU nodes that NeMo-Run's Slurm Ray template starts; the curate
stage's driver on the head node joins it (``curate.ray_address = "auto"``). The training
job waits for this job to succeed (Slurm ``afterok``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from herd.core.errors import ConfigError

RAY_EXECUTOR = "ray"


@dataclass(frozen=True)
class CurationSize:
    nodes: int
    ray: bool  # a Ray cluster over the nodes (curate.executor = "ray")
    workers: int  # processes of the local executor on its one node; 0 = every core


def curation_size(config, nemo, executor: str) -> CurationSize:
    curate = config.section("curate")
    if curate.executor != RAY_EXECUTOR:
        if nemo.curate_nodes != 1:
            raise ConfigError(
                f"nemo.curate_nodes = {nemo.curate_nodes}, but curate.executor = '{curate.executor}' runs on "
                "one node; set curate.executor = 'ray' to curate on a Ray cluster of several nodes"
            )
        return CurationSize(nodes=1, ray=False, workers=curate.workers)
    if executor != "slurm":
        raise ConfigError(
            f"curate.executor = 'ray' starts its Ray cluster through NeMo-Run's Slurm template; with the "
            f"{executor} executor start a Ray cluster yourself (KubeRay, SkyPilot), set curate.ray_address "
            "to it and run `herd run --stages curate,mix` before `herd train`"
        )
    return CurationSize(nodes=nemo.curate_nodes, ray=True, workers=0)


def config_overrides(size: CurationSize) -> dict[str, dict[str, str]]:
    """The curation job's config: its driver joins the cluster the job started."""
    return {"curate": {"ray_address": "auto"}} if size.ray else {}


def ray_cluster(run, nemo, size: CurationSize, *, name: str, prefix: str, command: list[str],
                env: dict[str, str], mounts: list[str], tunnel_dir: str):
    """NeMo-Run's Slurm Ray cluster for the curation job and the sbatch script it submits."""
    from nemo_run.run.ray.slurm import SlurmRayCluster, SlurmRayRequest

    executor = run.SlurmExecutor(
        account=nemo.slurm_account, partition=nemo.slurm_partition or None, nodes=size.nodes,
        ntasks_per_node=1, container_image=nemo.container_image, container_mounts=mounts,
        time=nemo.curate_time, env_vars=env, job_name_prefix=prefix,
        tunnel=run.LocalTunnel(job_dir=tunnel_dir),
    )
    script = SlurmRayRequest(
        name=name, cluster_dir=os.path.join(tunnel_dir, name), template_name="ray.sub.j2",
        executor=executor, command=" ".join(command), launch_cmd=["sbatch", "--parsable"],
    ).materialize()
    return SlurmRayCluster(name=name, executor=executor), script
