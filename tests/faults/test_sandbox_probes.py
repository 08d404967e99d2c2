"""The sandbox part of the standing fault-injection suite (issue 16): hostile programs
against every isolated backend the registry holds (``herd_register_sandboxes`` with
``isolated=True``: Docker and bubblewrap built in, a plugin's too), each run on this
machine when the backend's own probe says it is available and skipped with that reason
otherwise (CI has Docker with the image, and bubblewrap).

Groups: escape (host files, writes outside the work dir, the supervisor's /proc, new user
namespaces and mounts), network (connect out, DNS, the host's loopback), disk (fill every
writable place, leftovers between programs), fork, memory, output, signals (timeouts,
SIGTERM ignored, killing the parent, killing host processes) and ptrace (attach,
``process_vm_readv``, ``PTRACE_TRACEME``). Every probe asserts the exact outcome: blocked
with the error the kernel gives, killed with the status that names why, or truncated. After
each probe that kills or exhausts something the sandbox must still run a normal program."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from herd.core.protocols import Program
from herd.lib.sandbox.choose import default_registry, open_sandbox
from herd.lib.sandbox.config import SandboxConfig

REPO = Path(__file__).resolve().parents[2]
SECRET = "canary-3f9a1c"
CFG = SandboxConfig(timeout_s=4.0, memory_mb=256, pids=32, output_limit_bytes=100_000, pool_size=1)
REGISTRY = default_registry()
# The Docker backend's extra probes (its container cgroup) are marked so a machine
# without a daemon can deselect them by marker as well.
BACKENDS = [
    pytest.param(name, marks=[pytest.mark.docker] if name == "docker" else [], id=name)
    for name, component in REGISTRY.components["sandboxes"].items()
    if component.options.get("isolated")
]


@pytest.fixture(scope="module", params=BACKENDS)
def sandbox(request):
    name = request.param
    probe = REGISTRY.get("sandboxes", name).options.get("probe")
    problem = probe(CFG) if probe is not None else None
    if problem:
        pytest.skip(f"sandbox backend '{name}' is not available on this machine: {problem}")
    box = open_sandbox(CFG, name, REGISTRY)
    yield box
    box.close()


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "canary.txt"
    path.write_text(SECRET)
    return path


def py(sandbox, code: str, timeout_s: float | None = None):
    return sandbox.run({"main.py": code}, ["python3", "main.py"], timeout_s)


def probe_json(sandbox, code: str, timeout_s: float | None = None) -> dict:
    """Run a probe that prints one JSON object as its last line; it must exit cleanly."""
    result = py(sandbox, code, timeout_s)
    assert result.status == "ok", result
    return json.loads(result.stdout.splitlines()[-1])


def assert_still_works(sandbox):
    result = py(sandbox, "print(6 * 7)")
    assert result.status == "ok", result
    assert result.stdout.strip() == "42"


# Each of these prints how an attempt ended: "ok" or the OSError's errno name.
ATTEMPT = """
import errno, json, os
def attempt(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
"""
LIBC = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def libc_call(name, *args):
    if getattr(libc, name)(*args) == -1:
        return errno.errorcode[ctypes.get_errno()]
    return "ok"
"""


# -- a normal program ---------------------------------------------------------------------
def test_a_normal_program_runs_with_a_clean_environment(sandbox, monkeypatch):
    monkeypatch.setenv("HERD_HOST_SECRET", SECRET)
    result = py(sandbox, "import os, json\nprint(json.dumps(dict(os.environ)))\nprint(os.getuid())")
    assert result.status == "ok", result
    assert SECRET not in result.stdout
    assert result.stdout.splitlines()[-1] != "0"  # never root


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
    if type(sandbox).__name__ != "DockerSandbox":
        # On the host the OOM killer must take the program, not herd; in Docker the
        # container's memory cgroup holds the program and the pool replaces a lost supervisor.
        assert lines["oom_score_adj"] == "1000"


def test_non_utf8_output_is_decoded_not_fatal(sandbox):
    result = py(sandbox, "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end')")
    assert result.status == "ok", result
    assert result.stdout.startswith("ok ") and result.stdout.endswith(" end")


# -- escape -------------------------------------------------------------------------------
def test_escape_host_files_are_not_readable(sandbox, canary):
    paths = ["/etc/shadow", str(canary), str(REPO / "registry.toml"), str(Path.home() / ".bash_history")]
    found = probe_json(sandbox, ATTEMPT + f"print(json.dumps({{p: attempt(lambda p=p: open(p).read()) for p in {paths!r}}}))")
    # Not there at all (the host filesystem is not mounted) or not permitted (Docker's image
    # has its own /etc/shadow, root-only); never read.
    assert set(found.values()) <= {"ENOENT", "EACCES"}, found


def test_escape_writes_outside_the_work_dir_fail(sandbox, canary):
    paths = [str(canary), "/usr/evil.txt", "/etc/passwd", str(REPO / "evil.txt"), "/evil.txt"]
    found = probe_json(sandbox, ATTEMPT + f"print(json.dumps({{p: attempt(lambda p=p: open(p, 'w').write('owned')) for p in {paths!r}}}))")
    assert set(found.values()) <= {"EROFS", "EACCES", "ENOENT"}, found
    assert canary.read_text() == SECRET
    assert not (REPO / "evil.txt").exists()
    # ...while the work dir itself is writable.
    assert py(sandbox, "open('out.txt', 'w').write('fine')\nprint(open('out.txt').read())").stdout == "fine\n"


def test_escape_the_supervisor_is_out_of_reach(sandbox):
    """Programs run as the supervisor's user: its pipes to the host (/proc/1/fd), its
    environment and memory must still be closed to them (it is non-dumpable)."""
    code = ATTEMPT + (
        "print(json.dumps({'fd': attempt(lambda: os.listdir('/proc/1/fd')),\n"
        "                  'environ': attempt(lambda: open('/proc/1/environ').read()),\n"
        "                  'mem': attempt(lambda: open('/proc/1/mem', 'rb').read(1)),\n"
        "                  'write_stdout': attempt(lambda: open('/proc/1/fd/1', 'w').write('{}'))}))\n"
    )
    assert probe_json(sandbox, code) == {"fd": "EACCES", "environ": "EACCES", "mem": "EACCES", "write_stdout": "EACCES"}
    assert_still_works(sandbox)


def test_escape_no_new_user_namespace_and_no_mounts(sandbox):
    """A user namespace of its own would give the program every capability inside it;
    mounting needs one. Both are refused."""
    code = ATTEMPT + LIBC + (
        "CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000\n"
        "print(json.dumps({'userns': libc_call('unshare', CLONE_NEWUSER),\n"
        "                  'mountns': libc_call('unshare', CLONE_NEWNS),\n"
        "                  'mount': libc_call('mount', b'none', b'/work', b'tmpfs', 0, None)}))\n"
    )
    found = probe_json(sandbox, code)
    # EPERM: no capability (Docker's seccomp profile); ENOSPC: the namespace limit is 0
    # (bubblewrap's --disable-userns).
    assert found["userns"] in ("EPERM", "ENOSPC") and found["mountns"] == found["mount"] == "EPERM", found


# -- network ------------------------------------------------------------------------------
def test_network_connecting_out_is_unreachable(sandbox):
    code = ATTEMPT + ("import socket\n"
                      "print(json.dumps({'out': attempt(lambda: socket.create_connection(('1.1.1.1', 53), timeout=2))}))")
    assert probe_json(sandbox, code) == {"out": "ENETUNREACH"}


def test_network_dns_does_not_resolve(sandbox):
    code = ("import json, socket\n"
            "try:\n"
            "    socket.getaddrinfo('example.com', 80)\n"
            "    print(json.dumps({'dns': 'resolved'}))\n"
            "except socket.gaierror as exc:\n"
            "    print(json.dumps({'dns': 'gaierror'}))\n")
    assert probe_json(sandbox, code) == {"dns": "gaierror"}


def test_network_the_hosts_loopback_is_another_world(sandbox):
    """A server listening on the host's 127.0.0.1 is not reachable: the sandbox's loopback
    is its own (and down or empty)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    try:
        code = ATTEMPT + ("import socket\n"
                          f"print(json.dumps({{'host': attempt(lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2))}}))")
        assert probe_json(sandbox, code)["host"] in ("ECONNREFUSED", "ENETUNREACH")
        with pytest.raises(socket.timeout):
            server.accept()  # nothing ever connected
    finally:
        server.close()


# -- disk ---------------------------------------------------------------------------------
@pytest.fixture
def host_tmp(monkeypatch):
    """A fresh host temporary folder (traversable by the sandbox's uid) for this test."""
    folder = Path(tempfile.mkdtemp(prefix="herd-host-tmp-", dir="/tmp"))
    folder.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))  # where a host backend would put work dirs
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_disk_a_program_cannot_fill_the_disk(sandbox, host_tmp):
    """A program writing 200 MB into every writable place: each is a size-capped tmpfs, so
    it stops at the caps with ENOSPC (or EFBIG at the file-size rlimit) and nothing lands
    on the host's disk."""
    host_free = shutil.disk_usage("/tmp").free
    code = (
        "import errno, json, os\n"
        "mounts = {line.split()[1]: line.split()[2] for line in open('/proc/self/mounts')}\n"
        "report = {}\n"
        "for place in ('/work', '/tmp', '/dev/shm'):\n"
        "    stop = 'none'\n"
        "    try:\n"
        "        for i in range(25):\n"
        "            with open(os.path.join(place, f'fill{i}'), 'wb') as handle:\n"
        "                handle.write(b'x' * (8 << 20))\n"
        "    except OSError as exc:\n"
        "        stop = errno.errorcode[exc.errno]\n"
        "    written = sum(os.path.getsize(os.path.join(place, n)) for n in os.listdir(place) if n.startswith('fill'))\n"
        "    report[place] = [mounts.get(place), written >> 20, stop]\n"
        "print(json.dumps(report))\n"
    )
    report = probe_json(sandbox, code, 30.0)
    assert report["/work"][0] == "tmpfs" and report["/work"][1] <= CFG.workdir_mb
    assert report["/tmp"][0] == "tmpfs" and report["/tmp"][1] <= 16
    assert report["/dev/shm"][1] <= 64  # 16 MB with bubblewrap, Docker's shm is 64 MB
    assert {stop for _, _, stop in report.values()} <= {"ENOSPC", "EFBIG"}, report
    assert list(host_tmp.iterdir()) == []
    assert shutil.disk_usage("/tmp").free > host_free - 100 * 2**20  # the host did not take the 200 MB
    assert_still_works(sandbox)


def test_disk_nothing_leaks_between_programs(sandbox):
    """Files (even in a folder the program made unreadable and unwritable), scratch files
    and processes of one program are gone when the next one starts."""
    first = py(sandbox, "import os, subprocess\nopen('left.txt', 'w').write('x')\n"
                        "os.makedirs('locked/inner')\nopen('locked/inner/f', 'w').write('x')\n"
                        "os.chmod('locked/inner', 0)\nos.chmod('locked', 0)\n"
                        "open('/tmp/scratch', 'w').write('x')\nopen('/dev/shm/shm', 'w').write('x')\n"
                        "subprocess.Popen(['sleep', '60'], start_new_session=True)\nprint('ok')")
    assert first.status == "ok", first
    second = probe_json(sandbox, "import json, os\n"
                                 "print(json.dumps({'work': sorted(os.listdir('.')), 'tmp': os.listdir('/tmp'),\n"
                                 "                  'shm': os.listdir('/dev/shm'),\n"
                                 "                  'processes': sum(1 for p in os.listdir('/proc') if p.isdigit())}))")
    assert second["work"] == ["main.py"] and second["tmp"] == [] and second["shm"] == []
    assert second["processes"] <= 2  # the supervisor and this program


# -- fork ---------------------------------------------------------------------------------
def test_fork_stops_at_the_process_limit(sandbox):
    code = ATTEMPT + (
        "import time\n"
        "children, stop = 0, 'none'\n"
        "while children < 1000:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "    except OSError as exc:\n"
        "        stop = errno.errorcode[exc.errno]\n"
        "        break\n"
        "print(json.dumps({'children': children, 'stop': stop}))\n"
    )
    found = probe_json(sandbox, code)
    assert found["stop"] == "EAGAIN" and 0 < found["children"] < CFG.pids, found
    assert_still_works(sandbox)  # the children were killed with the program


def test_fork_bomb_times_out_and_is_cleaned_up(sandbox):
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = py(sandbox, code, timeout_s=3)
    assert result.status == "timeout", result
    assert_still_works(sandbox)


# -- memory -------------------------------------------------------------------------------
def test_memory_hog_is_killed_as_oom(sandbox):
    result = py(sandbox, "chunks = []\nwhile True:\n    chunks.append(bytearray(32 * 1024 * 1024))\n")
    assert result.status == "oom", result
    assert "MemoryError" in result.stderr
    assert_still_works(sandbox)


@pytest.mark.slow
def test_memory_across_processes_hits_the_container_limit(sandbox):
    """Each child stays under the per-process limit; together they exceed the container's.
    Only Docker has a memory cgroup around all of a program's processes; bubblewrap's limit
    is per process (docs/sandbox.md), so there the probe is not applicable."""
    if sandbox.__class__.__name__ != "DockerSandbox":
        pytest.skip("only the Docker backend limits the memory of a program's processes together")
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
    result = py(sandbox, code, timeout_s=20)
    assert result.status == "oom", result
    assert_still_works(sandbox)


# -- output -------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_flood_is_truncated_and_killed(sandbox, stream):
    result = py(sandbox, f"import sys\nwhile True:\n    sys.{stream}.write('x' * 65536)\n")
    assert result.status == "output_limit", result
    assert len(result.stdout) + len(result.stderr) == CFG.output_limit_bytes
    assert_still_works(sandbox)


# -- signals ------------------------------------------------------------------------------
def test_signals_an_endless_loop_times_out(sandbox):
    result = py(sandbox, "while True:\n    pass\n", timeout_s=1.5)
    assert result.status == "timeout", result
    assert_still_works(sandbox)


def test_signals_a_program_trapping_every_signal_is_still_stopped(sandbox):
    code = ("import signal, time\n"
            "for sig in signal.valid_signals():\n"
            "    try:\n"
            "        signal.signal(sig, signal.SIG_IGN)\n"
            "    except (OSError, ValueError):\n"
            "        pass\n"
            "print('trapped', flush=True)\n"
            "while True:\n"
            "    time.sleep(0.1)\n")
    result = py(sandbox, code, timeout_s=1.5)
    assert result.status == "timeout" and result.stdout == "trapped\n", result
    assert result.seconds < 1.5 + 3  # stopped at the timeout, not whenever the host gives up
    assert_still_works(sandbox)


def test_signals_a_daemonised_child_ignoring_sigterm_is_killed(sandbox):
    """The program forks a child into a session of its own that ignores SIGTERM and holds
    the output pipes open, then exits: the program's result comes back, the child is gone."""
    code = ("import os, signal, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "    time.sleep(60)\n"
            "print('parent done')\n")
    result = py(sandbox, code)
    assert result.status == "ok" and result.stdout == "parent done\n", result
    processes = probe_json(sandbox, "import json, os\nprint(json.dumps(sum(1 for p in os.listdir('/proc') if p.isdigit())))")
    assert processes <= 2


def test_signals_killing_its_parent_does_not_stop_the_supervisor(sandbox):
    code = ("import os, signal, json\n"
            "parent = os.getppid()\n"
            "for sig in (signal.SIGTERM, signal.SIGKILL):\n"
            "    os.kill(parent, sig)\n"
            "print(json.dumps({'parent': parent, 'alive': True}))\n")
    found = probe_json(sandbox, code)
    assert found == {"parent": 1, "alive": True}  # pid 1 of its namespace ignores them
    assert_still_works(sandbox)


def test_signals_cannot_reach_host_processes(sandbox):
    host = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        code = ATTEMPT + (
            "import signal\n"
            f"found = {{pid: attempt(lambda pid=pid: os.kill(pid, signal.SIGKILL)) for pid in ({os.getpid()}, {host.pid})}}\n"
            "found['everyone'] = attempt(lambda: os.kill(-1, signal.SIGKILL))\n"
            "print(json.dumps(found))\n"
        )
        found = probe_json(sandbox, code)
        # Host processes are not even visible; -1 reaches nobody (pid 1 and the caller are
        # left out of it, and nothing else runs).
        assert set(found.values()) == {"ESRCH"}, found
        assert host.poll() is None  # the host process lives
        assert_still_works(sandbox)  # and so does the sandbox's own supervisor
    finally:
        host.kill()
        host.wait()


# -- ptrace -------------------------------------------------------------------------------
def test_ptrace_attach_and_process_vm_readv_are_refused(sandbox):
    """Attaching to the supervisor or reading its memory is refused (it is non-dumpable);
    a host process is not even visible."""
    code = ATTEMPT + LIBC + (
        "class IoVec(ctypes.Structure):\n"
        "    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]\n"
        "buffer = ctypes.create_string_buffer(64)\n"
        "local = IoVec(ctypes.cast(buffer, ctypes.c_void_p), 64)\n"
        "remote = IoVec(0x400000, 64)\n"
        "PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206\n"
        "found = {}\n"
        f"for name, pid in (('supervisor', 1), ('host', {os.getpid()})):\n"
        "    found[name + '_attach'] = libc_call('ptrace', PTRACE_ATTACH, pid, None, None)\n"
        "    found[name + '_seize'] = libc_call('ptrace', PTRACE_SEIZE, pid, None, None)\n"
        "    found[name + '_vm_readv'] = libc_call('process_vm_readv', pid, ctypes.byref(local), 1,\n"
        "                                          ctypes.byref(remote), 1, 0)\n"
        "print(json.dumps(found))\n"
    )
    found = probe_json(sandbox, code)
    # Docker's seccomp profile refuses process_vm_readv outright (EPERM) before the kernel
    # would look the pid up (ESRCH).
    host_vm_readv = found.pop("host_vm_readv")
    assert host_vm_readv in ("ESRCH", "EPERM")
    assert found == {"supervisor_attach": "EPERM", "supervisor_seize": "EPERM", "supervisor_vm_readv": "EPERM",
                     "host_attach": "ESRCH", "host_seize": "ESRCH"}, found
    assert_still_works(sandbox)


def test_ptrace_traceme_then_stopping_itself_cannot_stall_the_supervisor(sandbox):
    """PTRACE_TRACEME makes the supervisor the program's tracer; the program then stops
    itself and waits for a tracer that never resumes it. The supervisor sees the stop,
    reports the program as stopped by SIGSTOP, kills it, and runs the next program."""
    code = (LIBC.replace("import ctypes", "import ctypes, errno, os, signal") +
            "print(libc_call('ptrace', 0, 0, None, None), flush=True)\n"  # PTRACE_TRACEME
            "os.kill(os.getpid(), signal.SIGSTOP)\n"
            "print('resumed')\n")
    result = py(sandbox, code, timeout_s=3)
    assert result.status in ("error", "timeout") and result.stdout == "ok\n", result
    assert "resumed" not in result.stdout
    assert_still_works(sandbox)


def test_many_programs_in_parallel_keep_their_order(sandbox):
    results = sandbox.run_many([Program({"main.py": f"print({i} * 3)"}, ["python3", "main.py"]) for i in range(6)])
    assert [r.stdout.strip() for r in results] == [str(i * 3) for i in range(6)]
