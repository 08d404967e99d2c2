"""Backend choice: unisolated execution is refused unless explicitly allowed; the
unisolated backend itself still enforces timeouts, output caps and a clean environment."""

from __future__ import annotations

import pytest

from herd.core.errors import ConfigError
from herd.core.plugins import load_plugins
from herd.core.protocols import Program
from herd.lib.sandbox.choose import open_sandbox
from herd.lib.sandbox.config import SandboxConfig


def test_unisolated_is_refused_by_default():
    with pytest.raises(ConfigError, match="allow_unisolated"):
        open_sandbox(SandboxConfig(backend="unisolated"))


def test_unisolated_is_refused_through_the_registry_too():
    registry = load_plugins(entry_points=False).registry
    assert registry.get("sandboxes", "unisolated").options["isolated"] is False
    assert registry.get("sandboxes", "docker").options["isolated"] is True
    with pytest.raises(ConfigError, match="allow_unisolated"):
        open_sandbox(SandboxConfig(), "unisolated", registry)


def test_unknown_backend_is_named():
    with pytest.raises(ConfigError, match="'firecracker'"):
        open_sandbox(SandboxConfig(backend="firecracker"))


def test_auto_refuses_when_nothing_isolates(monkeypatch):
    from herd.lib.sandbox import choose

    monkeypatch.setattr(choose, "available_backend", lambda cfg, registry=None: None)
    with pytest.raises(ConfigError, match="no isolated sandbox is available"):
        open_sandbox(SandboxConfig(backend="auto"))


@pytest.fixture
def unisolated():
    box = open_sandbox(SandboxConfig(backend="unisolated", allow_unisolated=True, timeout_s=5,
                                     output_limit_bytes=10_000))
    yield box
    box.close()


def test_unisolated_runs_programs_in_order_with_limits(unisolated, monkeypatch):
    monkeypatch.setenv("HERD_HOST_SECRET", "s3cret")
    results = unisolated.run_many([
        Program({"main.py": "import os\nprint(os.environ.get('HERD_HOST_SECRET'))"}, ["python3", "main.py"]),
        Program({"main.py": "while True: pass"}, ["python3", "main.py"], timeout_s=1),
        Program({"main.py": "print('y' * 100000)"}, ["python3", "main.py"]),
        Program({"main.py": "raise SystemExit(3)"}, ["python3", "main.py"]),
        Program({"main.py": "print(1"}, ["python3", "main.py"]),
        Program({"pkg/mod.py": "X = 5", "main.py": "from pkg.mod import X\nprint(X)"}, ["python3", "main.py"]),
    ])
    assert [r.status for r in results] == ["ok", "timeout", "output_limit", "error", "error", "ok"]
    assert results[0].stdout.strip() == "None"
    assert results[3].exit_code == 3
    assert "SyntaxError" in results[4].stderr
    assert results[5].stdout.strip() == "5"


def test_file_names_cannot_escape_the_work_dir(unisolated):
    result = unisolated.run({"../escape.py": "print(1)"}, ["python3", "../escape.py"])
    assert result.status == "sandbox_error"
    assert "must be relative" in result.stderr


def test_missing_interpreter_is_an_error_not_a_crash(unisolated):
    result = unisolated.run({"a.x": ""}, ["no-such-interpreter-herd", "a.x"])
    assert result.status == "error"
    assert "no-such-interpreter-herd" in result.stderr


def test_a_leftover_child_holding_the_pipes_does_not_make_a_timeout(unisolated):
    code = "import subprocess\nsubprocess.Popen(['sleep', '30'])\nprint('done')\n"
    result = unisolated.run({"main.py": code}, ["python3", "main.py"], timeout_s=4)
    assert result.status == "ok" and result.stdout.strip() == "done"  # not "timeout"


def test_auto_prefers_the_first_registered_isolated_backend_that_works():
    from herd.lib.sandbox.choose import available_backend

    registry = load_plugins(entry_points=False).registry
    usable = [name for name, c in registry.components["sandboxes"].items()
              if c.options.get("isolated") and c.options["probe"](SandboxConfig()) is None]
    assert available_backend(SandboxConfig(), registry) == (usable[0] if usable else None)
    assert list(registry.components["sandboxes"])[:2] == ["docker", "bwrap"]
