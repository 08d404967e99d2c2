"""``python cli.py sandbox build-image|check``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from herd.core.errors import ConfigError
from herd.lib.sandbox.config import IMAGE_VERSION, SandboxConfig

BUILD_SCRIPT = Path(__file__).resolve().parent / "build_image.sh"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = sub.add_parser("build-image", help="debootstrap + docker import the sandbox image (skips when it exists)")
    build.add_argument("--tag", help="image tag (default: the config's sandbox.image)")
    check = sub.add_parser("check", help="run a tiny program in the configured backend and print what ran it")
    check.add_argument("--sandbox", help="backend to check (default: sandbox.backend)")


def run(args: argparse.Namespace, app) -> int:
    cfg = _config(app)
    if args.action == "build-image":
        return build_image(args.tag or cfg.image)
    return check(cfg, args.sandbox, app.registry)


def _config(app) -> SandboxConfig:
    if app is not None and app.config.has_section("sandbox"):
        return app.config.section("sandbox")
    return SandboxConfig()


def build_image(tag: str) -> int:
    env = {**os.environ, "HERD_SANDBOX_VERSION": IMAGE_VERSION}
    start = time.monotonic()
    proc = subprocess.run(["bash", str(BUILD_SCRIPT), tag], env=env)
    if proc.returncode != 0:
        raise ConfigError(f"{BUILD_SCRIPT} failed with exit code {proc.returncode} (its output is above)")
    print(json.dumps({"image": tag, "seconds": round(time.monotonic() - start, 1)}))
    return 0


def check(cfg: SandboxConfig, backend: str | None, registry) -> int:
    from herd.lib.sandbox.choose import available_backend, open_sandbox

    name = backend or cfg.backend
    if name == "auto":
        name = available_backend(cfg) or "auto"
    sandbox = open_sandbox(cfg, name, registry)
    try:
        result = sandbox.run({"main.py": "print(6 * 7)"}, ["python3", "main.py"])
    finally:
        sandbox.close()
    print(json.dumps({"backend": name, "status": result.status, "stdout": result.stdout.strip(),
                      "seconds": result.seconds}))
    return 0 if result.passed else 1
