"""The warm bubblewrap pool: sandboxes outlive the threads that used them, a lost sandbox is
reported and replaced, and close ends every sandbox process. The hostile programs are in
tests/faults/test_sandbox_probes.py."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from herd.core.protocols import Program
from herd.lib.sandbox.config import SandboxConfig

CFG = SandboxConfig(timeout_s=5.0, pool_size=2)


@pytest.fixture
def box():
    from herd.plugins.sandbox.local_backends import BwrapSandbox, bwrap_problem

    problem = bwrap_problem()
    if problem:
        pytest.skip(f"bubblewrap sandbox unavailable: {problem}")
    sandbox = BwrapSandbox(CFG)
    yield sandbox
    sandbox.close()


def sandbox_processes() -> list[int]:
    """This process's children that are bwrap (each warm sandbox is one)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1: stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if name == "bwrap" and int(rest[1]) == os.getpid() and rest[0] != "Z":
            found.append(int(entry))
    return found


def squares(offset: int) -> list[Program]:
    return [Program({"main.py": f"print({i} ** 2)"}, ["python3", "main.py"]) for i in range(offset, offset + 6)]


def test_sandboxes_outlive_the_threads_that_started_them(box):
    """bwrap --die-with-parent follows the thread that started a sandbox: run_many's
    threads end after every call, and the next call must find the sandboxes alive."""
    for offset in (0, 10, 20):
        assert [r.stdout.strip() for r in box.run_many(squares(offset))] == [str(i ** 2) for i in range(offset, offset + 6)]
    outputs: dict[int, list[str]] = {}

    def work(offset: int) -> None:
        outputs[offset] = [r.stdout.strip() for r in box.run_many(squares(offset))]

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outputs == {o: [str(i ** 2) for i in range(o, o + 6)] for o in (100, 200)}
    assert len(sandbox_processes()) == CFG.pool_size


def test_a_dead_sandbox_is_reported_and_replaced(box):
    assert box.run({"main.py": "print(1)"}, ["python3", "main.py"]).passed
    for pid in sandbox_processes():
        os.kill(pid, signal.SIGKILL)
    broken = box.run({"main.py": "print(2)"}, ["python3", "main.py"])
    assert broken.status == "sandbox_error" and "bubblewrap sandbox failed: exit code -9" in broken.stderr
    again = box.run({"main.py": "print(3)"}, ["python3", "main.py"])
    assert again.passed and again.stdout.strip() == "3"


def test_close_ends_every_sandbox_process(box):
    box.run_many(squares(0))
    assert len(sandbox_processes()) == CFG.pool_size
    box.close()
    assert sandbox_processes() == []
