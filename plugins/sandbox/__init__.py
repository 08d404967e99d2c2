"""The sandbox plugin: backends that run untrusted programs (generated code, unit tests)
for any plugin. See docs/sandbox.md for how each isolates and how to set them up."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.lib.sandbox.config import SandboxConfig


def _docker(cfg):
    from herd.plugins.sandbox.docker_backend import DockerSandbox

    return DockerSandbox(cfg)


def _bwrap(cfg):
    from herd.plugins.sandbox.local_backends import BwrapSandbox

    return BwrapSandbox(cfg)


def _unisolated(cfg):
    from herd.plugins.sandbox.local_backends import UnisolatedSandbox

    return UnisolatedSandbox(cfg)


def _docker_problem(cfg) -> str | None:
    from herd.plugins.sandbox.docker_backend import docker_available

    return None if docker_available(cfg.image) else f"no Docker daemon with the image '{cfg.image}'"


def _bwrap_problem(cfg) -> str | None:
    from herd.plugins.sandbox.local_backends import bwrap_problem

    return bwrap_problem()


@hookimpl
def herd_register_config_sections(register):
    register("sandbox", SandboxConfig)


@hookimpl
def herd_register_sandboxes(register):
    register("docker", _docker, isolated=True, probe=_docker_problem,
             description="warm pool of locked-down containers (no network, read-only, non-root)")
    register("bwrap", _bwrap, isolated=True, probe=_bwrap_problem,
             description="bubblewrap namespaces per program (no network, host fs hidden) + rlimits")
    register("unisolated", _unisolated, isolated=False,
             description="plain subprocess with rlimits; only with sandbox.allow_unisolated = true")


@hookimpl
def herd_register_commands(register):
    from herd.plugins.sandbox import command

    register("sandbox", command.add_arguments, command.run,
             help="build the sandbox image, or check which backend runs programs")
