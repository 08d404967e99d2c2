#!/usr/bin/env bash
# Installs the `nemo` backend's packages on top of herd's environment (issue 10):
# NeMo AutoModel (the training engine) and NeMo-Run (job launch), without touching torch
# (2.13.0) and without downgrading transformers, numpy or protobuf.
#
#   bash plugins/nemo/install.sh      # idempotent: a second run only checks versions (~1 s)
#
# Why --no-deps (see docs/backends.md, "Installing the nemo extra"):
# - nemo-automodel 0.7.0 pins transformers==5.18.0 and pulls numpy 2.3, protobuf 6, CUDA
#   kernels (quack-kernels, nvidia-cutlass-dsl, cuda-python) and triton; herd uses only its
#   distributed components, which import megatron-fsdp and einops and nothing else.
#   torchao (its QAT) and torchdata (its data loaders) are left out on purpose: herd does
#   not use them, and an installed torchao is imported by every transformers model load.
# - nemo-run 0.11.1 imports only with leptonai 0.27.3, whose metadata pins urllib3<1.27,
#   anyio<=4.9 and cloudpickle==3.0.0 (older than herd's); both work with herd's versions.
set -euo pipefail
PY=${PYTHON:-python3}

# package==version installed without their dependencies; what they need besides herd's own
# packages is herd's `nemo` extra (pyproject.toml).
NO_DEPS=(
  nemo-automodel==0.7.0 megatron-fsdp==0.5.0
  nemo-run==0.11.1 leptonai==0.27.3 torchx==0.7.0
)

installed() {  # every name==version given is installed at that version
  "$PY" - "$@" <<'EOF'
import sys
from importlib import metadata
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    try:
        if metadata.version(name) != version:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
EOF
}

REPO=$(cd "$(dirname "$0")/../.." && pwd)
if installed "${NO_DEPS[@]}" && "$PY" -c "import nemo_automodel.components.distributed.config, nemo_run" 2>/dev/null; then
  exit 0
fi
pins=()
for name in torch transformers numpy protobuf; do  # hold what herd installed
  v=$("$PY" -c "from importlib import metadata; print(metadata.version('$name'))" 2>/dev/null || true)
  [ -n "$v" ] && pins+=("$name==${v%%+*}")
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "$PY" -m pip install -q --disable-pip-version-check -e "${REPO}[nemo]" "${pins[@]}" &&
       "$PY" -m pip install -q --disable-pip-version-check --no-deps "${NO_DEPS[@]}" &&
       "$PY" -c "import nemo_automodel.components.distributed.config, nemo_run"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "plugins/nemo/install.sh: installing the nemo extra failed (output above)" >&2
  exit 1
fi
