"""The warm Docker pool: parallel use from several threads, and recovery when a container
dies under it."""

from __future__ import annotations

import threading

import pytest

from herd.core.protocols import Program
from herd.lib.sandbox.config import SandboxConfig

pytestmark = pytest.mark.docker
CFG = SandboxConfig(timeout_s=5.0, pool_size=2)


@pytest.fixture
def box():
    from herd.core.errors import ConfigError
    from herd.plugins.sandbox.docker_backend import DockerSandbox

    try:
        sandbox = DockerSandbox(CFG)
    except ConfigError as exc:
        pytest.skip(f"Docker sandbox unavailable: {exc}")
    yield sandbox
    sandbox.close()


def square_programs(offset: int) -> list[Program]:
    return [Program({"main.py": f"print({i} ** 2)"}, ["python3", "main.py"]) for i in range(offset, offset + 8)]


def test_run_many_from_several_threads_keeps_results_in_order(box):
    outputs: dict[int, list[str]] = {}

    def work(offset: int) -> None:
        outputs[offset] = [r.stdout.strip() for r in box.run_many(square_programs(offset))]

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (0, 100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for offset in (0, 100, 200):
        assert outputs[offset] == [str(i ** 2) for i in range(offset, offset + 8)]
    assert len(box.client.containers.list(filters={"label": f"herd.sandbox.pool={box.pool_id}"})) <= CFG.pool_size


def test_a_dead_container_is_reported_and_replaced(box):
    assert box.run({"main.py": "print(1)"}, ["python3", "main.py"]).passed
    for container in box.client.containers.list(filters={"label": f"herd.sandbox.pool={box.pool_id}"}):
        container.kill()
    broken = box.run({"main.py": "print(2)"}, ["python3", "main.py"])
    assert broken.status == "sandbox_error" and "sandbox container failed" in broken.stderr
    again = box.run({"main.py": "print(3)"}, ["python3", "main.py"])
    assert again.passed and again.stdout.strip() == "3"


def test_close_removes_the_pool_containers(box):
    box.run_many(square_programs(0))
    label = {"label": f"herd.sandbox.pool={box.pool_id}"}
    assert box.client.containers.list(all=True, filters=label)
    box.close()
    assert box.client.containers.list(all=True, filters=label) == []


def test_containers_of_ended_runs_are_reaped_at_start_up(box):
    """A herd killed with SIGKILL leaves its containers (exited or running); the next
    sandbox removes them, and leaves those of live herd processes alone."""
    import subprocess
    import sys

    from herd.plugins.sandbox.docker_backend import LABEL, OWNER_LABEL, DockerSandbox, owner_id

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_owner = owner_id(ended.pid)  # labelled while the process lives, as a run does
    ended.wait()
    made = {}
    for name, owner, start in (("dead_running", dead_owner, True), ("dead_exited", dead_owner, False),
                               ("unlabelled_exited", None, False), ("alive", owner_id(), True)):
        labels = {LABEL: "1", **({OWNER_LABEL: owner} if owner else {})}
        container = box.client.containers.create(CFG.image, command=["sleep", "300"], labels=labels)
        if start:
            container.start()
        made[name] = container.id
    try:
        fresh = DockerSandbox(CFG)
        fresh.close()
        left = {c.id for c in box.client.containers.list(all=True, filters={"label": LABEL})}
        assert made["alive"] in left
        assert not {made["dead_running"], made["dead_exited"], made["unlabelled_exited"]} & left
    finally:
        for container_id in made.values():
            try:
                box.client.containers.get(container_id).remove(force=True)
            except Exception:
                pass
