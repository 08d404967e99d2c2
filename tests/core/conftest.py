"""The third-party plugin package of tests/fixtures/herd_plugin_hello, installed for real
(pip, into a folder of its own) once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HELLO_PACKAGE = Path(__file__).resolve().parent.parent / "fixtures" / "herd_plugin_hello"


@pytest.fixture(scope="session")
def hello_site(tmp_path_factory) -> Path:
    """A folder with herd-plugin-hello installed in it: put it on PYTHONPATH (or sys.path)
    and herd finds the plugin through the ``herd`` entry-point group."""
    target = tmp_path_factory.mktemp("hello_site")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(HELLO_PACKAGE)],
        capture_output=True, text=True, cwd=target,
    )
    assert build.returncode == 0, build.stderr
    return target
