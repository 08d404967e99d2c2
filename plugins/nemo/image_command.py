"""``herd build-image``: write the Dockerfile of a container image with herd (and the
chosen extras) on top of a NeMo image, and print the ``docker build`` command that builds
it (``--dry-run``: print both, write nothing). herd does not run Docker or pull images
itself: the build runs where a registry and a Docker daemon are."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from herd.core import atomic
from herd.plugins.nemo.image import DEFAULT_BASE, DEFAULT_EXTRAS, dockerignore, image_build


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"the NeMo image to build on (default {DEFAULT_BASE})")
    parser.add_argument("--tag", required=True, help="the image to build, e.g. registry.example.com/herd:0.1")
    parser.add_argument("--extras", default=",".join(DEFAULT_EXTRAS),
                        help=f"herd extras to install, comma-separated (default {','.join(DEFAULT_EXTRAS)})")
    parser.add_argument("--output", type=Path, help="folder for the Dockerfile (default runs/image)")
    parser.add_argument("--dry-run", action="store_true", help="print the Dockerfile and command; write nothing")


def run(args: argparse.Namespace, app) -> int:
    extras = tuple(e.strip() for e in args.extras.split(",") if e.strip())
    build = image_build(args.base, args.tag, extras, app.config.section("nemo").herd_dir)
    out = args.output or Path(app.config.run.runs_dir) / "image"
    path = out.resolve() / "Dockerfile"
    command = shlex.join(build.command(path))
    if args.dry_run:
        print(f"--- {path} (not written: --dry-run) ---\n{build.dockerfile}")
        print(f"--- build it with ---\n{command}")
        return 0
    atomic.write_text(path, build.dockerfile)
    atomic.write_text(path.with_name("Dockerfile.dockerignore"), dockerignore())
    print(f"wrote {path}\nbuild and push it, then name it in the config:\n  {command}\n"
          f"  docker push {shlex.quote(args.tag)}\n  --set nemo.container_image={shlex.quote(args.tag)}")
    return 0
