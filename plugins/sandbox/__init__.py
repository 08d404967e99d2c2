"""The sandbox plugin: backends that run untrusted programs (generated code, unit tests)
for any plugin. See docs/sandbox.md for how each isolates and how to set them up."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.sandbox.config import SandboxConfig


def _docker(cfg):
    from herd.plugins.sandbox.docker_backend import DockerSandbox

    return DockerSandbox(cfg)


def _bwrap(cfg):
    from herd.plugins.sandbox.local_backends import BwrapSandbox

    return BwrapSandbox(cfg)


def _unisolated(cfg):
    from herd.plugins.sandbox.local_backends import UnisolatedSandbox

    return UnisolatedSandbox(cfg)


# name -> (factory, isolated); what open_sandbox uses when it is given no registry.
BUILTIN_BACKENDS = {"docker": (_docker, True), "bwrap": (_bwrap, True), "unisolated": (_unisolated, False)}


@hookimpl
def herd_register_config_sections(register):
    register("sandbox", SandboxConfig)


@hookimpl
def herd_register_sandboxes(register):
    register("docker", _docker, isolated=True,
             description="warm pool of locked-down containers (no network, read-only, non-root)")
    register("bwrap", _bwrap, isolated=True,
             description="bubblewrap namespaces per program (no network, host fs hidden) + rlimits")
    register("unisolated", _unisolated, isolated=False,
             description="plain subprocess with rlimits; only with sandbox.allow_unisolated = true")


@hookimpl
def herd_register_commands(register):
    from herd.plugins.sandbox import command

    register("sandbox", command.add_arguments, command.run,
             help="build the sandbox image, or check which backend runs programs")
