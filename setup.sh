#!/usr/bin/env bash
# Sets up herd on a fresh Debian/Ubuntu machine with Python 3.11 (root, or sudo available):
# system packages for the code sandbox (Docker daemon, debootstrap, bubblewrap), herd and
# its dependencies from PyPI, a running Docker daemon, and the sandbox image built locally.
#   bash setup.sh          # what the main job needs
#   bash setup.sh --dev    # plus the test dependencies (Chromium for the report test, pytest, trl...)
set -euo pipefail
cd "$(dirname "$0")"
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
PY=${PYTHON:-python3}

say() { printf '\n[setup] %s\n' "$*"; }

packages="docker.io debootstrap bubblewrap"
[ "$DEV" = 1 ] && packages="$packages chromium"
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  say "installing system packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

say "installing herd and its Python dependencies"
# torch==2.13.0 first: its CPU build is on these machines' disk; unpinned it would pull CUDA.
$PY -m pip install -q torch==2.13.0
extras="all"
[ "$DEV" = 1 ] && extras="all,dev"
$PY -m pip install -q -e ".[${extras}]"
if [ "$DEV" = 1 ] && [ -f plugins/nemo/install.sh ]; then
  say "installing the nemo extra (NeMo AutoModel, NeMo-Run) for its tests"
  bash plugins/nemo/install.sh
fi

if ! docker info >/dev/null 2>&1; then
  say "starting the Docker daemon"
  ($SUDO dockerd >/tmp/herd-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/herd-dockerd.log" >&2; exit 1; }
fi

if [ -x plugins/sandbox/build_image.sh ] || [ -f plugins/sandbox/build_image.sh ]; then
  say "building the sandbox image (skipped when it exists)"
  bash plugins/sandbox/build_image.sh
fi
say "done"
