#!/usr/bin/env bash
# Build herd's sandbox image locally, with no registry: debootstrap a minimal Debian with
# the interpreters the code plugin runs (python3 with its standard library, Lua 5.4, Perl),
# then `docker import` it. Idempotent: does nothing when the tag already exists.
#
# Usage: build_image.sh [TAG]            (default tag: herd-sandbox:$HERD_SANDBOX_VERSION)
# Needs: root, debootstrap, a running Docker daemon, access to a Debian mirror
#        ($DEBIAN_MIRROR, default http://deb.debian.org/debian).
set -euo pipefail

HERD_SANDBOX_VERSION="${HERD_SANDBOX_VERSION:-1}"
TAG="${1:-herd-sandbox:${HERD_SANDBOX_VERSION}}"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# python3 (not python3-minimal): generated solutions import re, math, hashlib, typing...
# perl-base is part of minbase already; lua5.4 is the second translation target.
PACKAGES="python3,lua5.4"

if docker image inspect "$TAG" >/dev/null 2>&1; then
    echo "sandbox image $TAG already exists; nothing to do"
    exit 0
fi
for tool in debootstrap docker; do
    command -v "$tool" >/dev/null || { echo "build_image.sh: '$tool' is not installed" >&2; exit 2; }
done

ROOT="$(mktemp -d /tmp/herd-sandbox-rootfs.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT

echo "debootstrap $SUITE ($PACKAGES) into $ROOT"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 || {
    echo "debootstrap failed; last lines of $ROOT.log:" >&2; tail -20 "$ROOT.log" >&2; exit 1; }
rm -f "$ROOT.log"
# Nothing in the sandbox needs apt's caches, docs or locales: keep the image small.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* \
       "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/locale/*
# The non-root user programs run as (the image has no useradd in minbase's PATH guarantees).
mkdir -p "$ROOT/work"
chmod 1777 "$ROOT/work"

tar -C "$ROOT" -c . | docker import \
    --change 'USER 65534:65534' --change 'WORKDIR /work' \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1' \
    - "$TAG" >/dev/null
echo "built sandbox image $TAG ($(docker image inspect --format '{{.Size}}' "$TAG") bytes)"
