"""Fixtures of the math plugin's tests: an isolated sandbox (skipped where the machine has
none), as the code plugin's tests get one."""

from __future__ import annotations

import pytest

from herd.lib.sandbox.choose import available_backend, open_sandbox
from herd.lib.sandbox.config import SandboxConfig


@pytest.fixture(scope="module")
def math_sandbox():
    cfg = SandboxConfig(timeout_s=5, pool_size=2)
    if available_backend(cfg) is None:
        pytest.skip("no isolated sandbox here (no Docker image, no working bubblewrap)")
    box = open_sandbox(cfg)
    yield box
    box.close()
