"""`hookline api` and `hookline worker` as separate processes; kill -9 a worker mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import HOOKLINE, free_port, run_cli

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
HANDLERS = {"slowish": {"kind": "python", "target": "tests.e2e.plugins:slowish", "timeout_s": 10}}


def role_env(base: dict[str, str]) -> dict[str, str]:
    return base | {
        "PYTHONPATH": str(REPO),
        "HOOKLINE_HANDLERS": json.dumps(HANDLERS),
        "HOOKLINE_DISPATCHER_LEASE_S": "2",
        "HOOKLINE_DISPATCHER_CONCURRENCY": "8",
        "HOOKLINE_DISPATCHER_POLL_S": "0.2",
    }


def start(args: list[str], env: dict[str, str], cwd: Path, name: str) -> subprocess.Popen[bytes]:
    with (cwd / f"{name}.log").open("wb") as log:
        return subprocess.Popen([*HOOKLINE, *args], env=env, cwd=cwd, stdout=log, stderr=log)


def wait_healthy(url: str, process: subprocess.Popen[bytes], deadline_s: float = 30) -> None:
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        assert process.poll() is None, "the api process exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("api did not become healthy")


def all_events(url: str, key: str, **params: str) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    token = None
    for _ in range(1000):
        query = params | ({"next_token": token} if token else {})
        page = httpx.get(f"{url}/v1/events", params=query, auth=(key, ""), timeout=10).json()
        docs.extend(page["docs"])
        if not page["has_more"]:
            return docs
        token = page["next_token"]
    raise AssertionError("too many pages")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_killed_worker_loses_nothing(
    tmp_path: Path, e2e_env: dict[str, str], processes: list[subprocess.Popen[bytes]]
) -> None:
    """kill -9 a worker holding leases; another worker completes every task exactly once."""
    env = role_env(e2e_env)
    assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
    key = run_cli("keys", "create", "--account", "ops", env=env, cwd=tmp_path).stdout.split()[-1]
    port = free_port()
    api = start(["api", "--port", str(port)], env, tmp_path, "api")
    processes.append(api)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, api)
    first = start(["worker"], env, tmp_path, "worker1")
    processes.append(first)

    task_ids = [
        httpx.post(f"{url}/v1/task/slowish", json={"i": i}, auth=(key, ""), timeout=10).json()[
            "task_id"
        ]
        for i in range(40)
    ]
    # Let the first worker finish some tasks and hold leases on more, then kill it without
    # warning: between settling one group and claiming the next it holds none.
    until = time.monotonic() + 60
    while time.monotonic() < until:
        # Claims read first: a task completed by now was claimed before, so claimed then
        # exceeding completed now means leases are held now.
        claimed = len(all_events(url, key, action="claimed"))
        completed = len(all_events(url, key, action="completed"))
        if completed >= 8 and claimed > completed:
            break
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    held_when_killed = 40 - len(all_events(url, key, action="completed"))
    assert held_when_killed > 0

    second = start(["worker"], env, tmp_path, "worker2")
    processes.append(second)
    until = time.monotonic() + 60
    statuses: Counter[str] = Counter()
    while time.monotonic() < until:
        listed = httpx.get(f"{url}/v1/tasks", params={"type": "slowish"}, auth=(key, "")).json()
        statuses = Counter(doc["status"] for doc in listed["docs"])
        if statuses["completed"] == 40:
            break
        time.sleep(0.2)
    assert statuses == Counter({"completed": 40})

    completions = Counter(e["task_id"] for e in all_events(url, key, action="completed"))
    assert completions == Counter(dict.fromkeys(task_ids, 1))
    # Worker names are host:pid:suffix. On a loaded box the first worker may also have
    # outlived a lease of its own and claimed the task again before it was killed: what
    # counts is that every task the second worker took over was finished by it.
    recovered = {
        e["task_id"]
        for e in all_events(url, key, action="lease_expired")
        if f":{first.pid}:" in e["details"]["previous_owner"]
    }
    taken_over = recovered & {
        e["task_id"]
        for e in all_events(url, key, action="claimed")
        if f":{second.pid}:" in e["details"]["worker"]
    }
    assert taken_over, "the killed worker's leases should have expired and been claimed again"
    for task_id in taken_over:
        task = httpx.get(f"{url}/v1/task/{task_id}", auth=(key, "")).json()
        assert task["response"]["pid"] == second.pid


def test_worker_drains_on_sigterm(
    tmp_path: Path, e2e_env: dict[str, str], processes: list[subprocess.Popen[bytes]]
) -> None:
    """SIGTERM stops a worker cleanly (exit 0) and it says so in its log."""
    env = role_env(e2e_env)
    assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
    worker = start(["worker"], env, tmp_path, "worker")
    processes.append(worker)
    log = tmp_path / "worker.log"
    until = time.monotonic() + 20
    while "dispatcher_started" not in log.read_text() and time.monotonic() < until:
        time.sleep(0.1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(15) == 0
    assert "dispatcher_stopped" in log.read_text()


def test_roles_refuse_an_empty_database(tmp_path: Path, e2e_env: dict[str, str]) -> None:
    """`hookline worker` on an unmigrated database stops and says to run migrate."""
    result = run_cli("worker", env=role_env(e2e_env), cwd=tmp_path, timeout_s=30)
    assert result.returncode != 0
    assert "hookline migrate" in result.stderr


def test_two_apis_share_a_port_and_workers_answer_health(
    tmp_path: Path, e2e_env: dict[str, str], processes: list[subprocess.Popen[bytes]]
) -> None:
    """Two `api` processes share one port (SO_REUSEPORT); one dies, the port still answers.

    A worker with --health-port answers /healthz and /readyz.
    """
    env = role_env(e2e_env) | {"HOOKLINE_SERVER_REUSE_PORT": "true"}
    assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
    key = run_cli("keys", "create", "--account", "ops", env=env, cwd=tmp_path).stdout.split()[-1]
    port = free_port()
    first = start(["api", "--port", str(port)], env, tmp_path, "api1")
    second = start(["api", "--port", str(port)], env, tmp_path, "api2")
    health = free_port()
    worker = start(["worker", "--health-port", str(health)], env, tmp_path, "worker")
    processes.extend([first, second, worker])
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, first)
    until = time.monotonic() + 30
    while "Started server process" not in (tmp_path / "api2.log").read_text():
        assert second.poll() is None, "the second api exited"
        assert time.monotonic() < until, "the second api did not start"
        time.sleep(0.1)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    for _ in range(5):
        listed = httpx.get(f"{url}/v1/tasks", auth=(key, ""), timeout=5)
        assert listed.status_code == 200
    ready: httpx.Response | None = None
    until = time.monotonic() + 20
    while ready is None and time.monotonic() < until:
        try:
            ready = httpx.get(f"http://127.0.0.1:{health}/readyz", timeout=1)
        except httpx.HTTPError:
            time.sleep(0.1)
    assert ready is not None
    assert ready.json()["status"] == "ok"
