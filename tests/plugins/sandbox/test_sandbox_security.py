"""Hostile programs against the isolated backends: each is contained, reported as a
failure with its reason, and leaves the host (a canary file, this test process, a host
process) untouched. Docker cases need a daemon and the image; CI provides both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from herd.core.protocols import Program
from herd.lib.sandbox.config import SandboxConfig

REPO = Path(__file__).resolve().parents[3]
SECRET = "canary-3f9a1c"


def _docker_skip_reason(image: str) -> str | None:
    from herd.core.errors import ConfigError
    from herd.plugins.sandbox.docker_backend import connect, require_image

    try:
        require_image(connect(), image)
    except ConfigError as exc:
        return str(exc)
    return None


def _bwrap_skip_reason() -> str | None:
    from herd.plugins.sandbox.local_backends import bwrap_problem

    return bwrap_problem()


CFG = SandboxConfig(timeout_s=4.0, memory_mb=256, pids=32, output_limit_bytes=100_000, pool_size=1)


@pytest.fixture(scope="module", params=[pytest.param("docker", marks=pytest.mark.docker), "bwrap"])
def sandbox(request):
    if request.param == "docker":
        reason = _docker_skip_reason(CFG.image)
        if reason:
            pytest.skip(f"Docker sandbox unavailable: {reason}")
        from herd.plugins.sandbox.docker_backend import DockerSandbox

        box = DockerSandbox(CFG)
    else:
        reason = _bwrap_skip_reason()
        if reason:
            pytest.skip(f"bubblewrap sandbox unavailable: {reason}")
        from herd.plugins.sandbox.local_backends import BwrapSandbox

        box = BwrapSandbox(CFG)
    yield box
    box.close()


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "canary.txt"
    path.write_text(SECRET)
    return path


def py(sandbox, code: str, timeout_s: float | None = None):
    return sandbox.run({"main.py": code}, ["python3", "main.py"], timeout_s)


def assert_still_works(sandbox):
    result = py(sandbox, "print(6 * 7)")
    assert result.status == "ok", result
    assert result.stdout.strip() == "42"


def test_a_normal_program_runs_with_a_clean_environment(sandbox, monkeypatch):
    monkeypatch.setenv("HERD_HOST_SECRET", SECRET)
    result = py(sandbox, "import os, json\nprint(json.dumps(dict(os.environ)))\nprint(os.getuid())")
    assert result.status == "ok", result
    assert SECRET not in result.stdout
    assert result.stdout.splitlines()[-1] != "0"  # never root


def test_network_is_unreachable(sandbox):
    code = (
        "import socket\n"
        "s = socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "print('connected')\n"
    )
    result = py(sandbox, code)
    assert result.status == "error"
    assert "connected" not in result.stdout
    assert "OSError" in result.stderr or "unreachable" in result.stderr.lower()


def test_host_files_are_not_readable(sandbox, canary):
    for path in ("/etc/shadow", str(canary), str(REPO / "registry.toml")):
        result = py(sandbox, f"print(open({path!r}).read())")
        assert result.status == "error", (path, result)
        assert SECRET not in result.stdout
        assert "Error" in result.stderr


def test_writes_outside_the_work_dir_fail(sandbox, canary):
    for path in (str(canary), "/usr/evil.txt", "/etc/passwd", str(REPO / "evil.txt")):
        result = py(sandbox, f"open({path!r}, 'w').write('owned')")
        assert result.status == "error", (path, result)
    assert canary.read_text() == SECRET
    assert not (REPO / "evil.txt").exists()
    # ...while the work dir itself is writable.
    assert py(sandbox, "open('out.txt', 'w').write('fine')\nprint(open('out.txt').read())").stdout == "fine\n"


def test_work_dir_and_processes_do_not_leak_between_programs(sandbox):
    first = py(sandbox, "import subprocess\nopen('left.txt', 'w').write('x')\n"
                        "subprocess.Popen(['sleep', '60'], start_new_session=True)\nprint('ok')")
    assert first.status == "ok", first
    second = py(sandbox, "import os\nprint(os.path.exists('left.txt'))\n"
                         "print(sum(1 for p in os.listdir('/proc') if p.isdigit()))")
    assert second.status == "ok", second
    leftover, processes = second.stdout.split()
    assert leftover == "False"
    assert int(processes) <= 3  # the supervisor, this program (and bwrap's init)


def test_programs_run_under_their_limits(sandbox):
    code = ("import resource\n"
            "for name in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_CORE'):\n"
            "    print(name, *resource.getrlimit(getattr(resource, name)))\n"
            "print('oom_score_adj', open('/proc/self/oom_score_adj').read().strip())\n")
    result = py(sandbox, code, timeout_s=3)
    assert result.status == "ok", result
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["RLIMIT_AS"] == f"{256 * 1024 * 1024} {256 * 1024 * 1024}"
    assert lines["RLIMIT_CPU"] == "4 4"  # the timeout plus a second
    assert lines["RLIMIT_CORE"] == "0 0"
    if type(sandbox).__name__ == "BwrapSandbox":
        # On the host the OOM killer must take the program, not herd; in Docker the
        # container's memory cgroup holds the program and the pool replaces a lost supervisor.
        assert lines["oom_score_adj"] == "1000"


def test_fork_bomb_is_contained(sandbox):
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = py(sandbox, code, timeout_s=3)
    assert result.status in ("timeout", "error"), result
    assert not result.passed
    assert_still_works(sandbox)


def test_memory_bomb_is_contained(sandbox):
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(32 * 1024 * 1024))\n"
    result = py(sandbox, code)
    assert result.status == "oom", result
    assert_still_works(sandbox)


def test_infinite_loop_times_out(sandbox):
    result = py(sandbox, "while True:\n    pass\n", timeout_s=1.5)
    assert result.status == "timeout", result
    assert_still_works(sandbox)


def test_huge_output_is_capped(sandbox):
    result = py(sandbox, "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n")
    assert result.status == "output_limit", result
    assert len(result.stdout) + len(result.stderr) <= CFG.output_limit_bytes
    assert_still_works(sandbox)


def test_non_utf8_output_is_decoded_not_fatal(sandbox):
    result = py(sandbox, "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end')")
    assert result.status == "ok", result
    assert result.stdout.startswith("ok ") and result.stdout.endswith(" end")


def test_signals_cannot_reach_host_processes(sandbox):
    host = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        code = (
            "import os, signal\n"
            f"for pid in (1, {os.getpid()}, {host.pid}):\n"
            "    try:\n"
            "        os.kill(pid, signal.SIGKILL)\n"
            "    except OSError as exc:\n"
            "        print(pid, type(exc).__name__)\n"
            "os.kill(-1, signal.SIGKILL)\n"
        )
        result = py(sandbox, code)
        assert not result.passed, result
        assert host.poll() is None  # the host process lives
        assert_still_works(sandbox)  # and so does the sandbox's own supervisor
    finally:
        host.kill()
        host.wait()


@pytest.mark.docker
def test_docker_supervisor_pipes_are_out_of_reach():
    """Programs run as the supervisor's user; its /proc entries must still be closed to them."""
    reason = _docker_skip_reason(CFG.image)
    if reason:
        pytest.skip(f"Docker sandbox unavailable: {reason}")
    from herd.plugins.sandbox.docker_backend import DockerSandbox

    with DockerSandbox(CFG) as box:
        result = py(box, "import os\nprint(os.listdir('/proc/1/fd'))")
        assert result.status == "error", result
        assert "PermissionError" in result.stderr
        results = box.run_many([Program({"main.py": f"print({i} * 3)"}, ["python3", "main.py"]) for i in range(6)])
        assert [r.stdout.strip() for r in results] == [str(i * 3) for i in range(6)]


@pytest.mark.docker
@pytest.mark.slow
def test_docker_memory_bomb_across_processes_hits_the_container_limit():
    """Each child stays under the per-process limit; together they exceed the container's."""
    reason = _docker_skip_reason(CFG.image)
    if reason:
        pytest.skip(f"Docker sandbox unavailable: {reason}")
    from herd.plugins.sandbox.docker_backend import DockerSandbox

    code = (
        "import os, time\n"
        "children = []\n"
        "for _ in range(4):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        block = bytearray(150 * 1024 * 1024)\n"
        "        for i in range(0, len(block), 4096):\n"
        "            block[i] = 1\n"
        "        time.sleep(3)\n"
        "        os._exit(0)\n"
        "    children.append(pid)\n"
        "failed = sum(os.waitpid(pid, 0)[1] != 0 for pid in children)\n"
        "raise SystemExit(1 if failed else 0)\n"
    )
    with DockerSandbox(CFG) as box:
        result = py(box, code, timeout_s=20)
        assert result.status == "oom", result
        assert_still_works(box)


@pytest.fixture
def host_tmp(monkeypatch):
    """A fresh host temporary folder (traversable by the sandbox's uid) for this test."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="herd-host-tmp-", dir="/tmp"))
    folder.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))  # where a host backend puts work dirs
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_program_cannot_fill_the_disk(sandbox, host_tmp):
    """A program writing 200 MB: every writable place is a size-capped tmpfs, so it stops at
    the caps and nothing lands in the host's temporary folder."""
    code = (
        "import os\n"
        "mounts = {line.split()[1]: line.split()[2] for line in open('/proc/self/mounts')}\n"
        "for place in ('/work', '/tmp', '/dev/shm'):\n"
        "    written = 0\n"
        "    try:\n"
        "        for i in range(25):\n"
        "            with open(os.path.join(place, f'fill{i}'), 'wb') as handle:\n"
        "                handle.write(b'x' * (8 << 20))\n"
        "            written += 8 << 20\n"
        "    except OSError as exc:\n"
        "        written = sum(os.path.getsize(os.path.join(place, n)) for n in os.listdir(place) if n.startswith('fill'))\n"
        "    print(place, mounts.get(place), written >> 20)\n"
    )
    result = sandbox.run({"main.py": code}, ["python3", "main.py"], 30.0)
    assert result.status == "ok", result
    report = {place: (fstype, int(mb)) for place, fstype, mb in (line.split() for line in result.stdout.splitlines())}
    assert report["/work"] == ("tmpfs", report["/work"][1]) and report["/work"][1] <= CFG.workdir_mb
    assert report["/tmp"][1] <= 64 and report["/dev/shm"][1] <= 64  # 16 MB here, Docker's shm is 64 MB
    assert sum(mb for _, mb in report.values()) < 200
    assert list(host_tmp.iterdir()) == []  # the work dir was a host folder once: it is gone
    assert_still_works(sandbox)
