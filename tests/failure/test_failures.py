"""The failure suite: real processes on 127.0.0.1, killed and starved, losing nothing.

Bounded in count and time; run with `pytest -m failure` (`.ci/run` runs it as its own step).
When to kill, which process and for how long come from a seeded random draw:
`FAILURE_SEED=N pytest -m failure tests/failure` replays a run (each test prints its seed).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL, create_database, drop_database
from tests.e2e.conftest import run_cli
from tests.failure.cluster import Process, Receiver, api_process, base_env, worker_process
from tests.failure.submitter import Outcomes, submit_all
from tests.failure.verify import wait_until_settled

pytestmark = [pytest.mark.failure, pytest.mark.e2e]
needs_pg = pytest.mark.skipif(not PG_URL, reason="HOOKLINE_TEST_PG_URL is not set")


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> random.Random:
    """The run's random draws; the seed is printed, and FAILURE_SEED replays it."""
    seed = int(os.environ.get("FAILURE_SEED") or random.SystemRandom().randrange(2**32))
    print(f"{request.node.name}: FAILURE_SEED={seed}")  # noqa: T201 - shown with a failure
    return random.Random(seed)  # noqa: S311 - test timings, not secrets


def wait_for_tasks(base: str, key: str, count: int) -> None:
    until = time.monotonic() + 120
    while count_tasks(base, key) < count and time.monotonic() < until:
        time.sleep(0.1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        if process.popen is not None and process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait(10)


@pytest.fixture
def pg_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    assert PG_URL is not None
    url = asyncio.run(create_database(PG_URL))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env |= {"PYTHONUNBUFFERED": "1", "HOOKLINE_DATABASE_URL": url}
    yield base_env(env)
    asyncio.run(drop_database(url, PG_URL))


def account_key(env: dict[str, str], cwd: Path) -> str:
    assert run_cli("migrate", env=env, cwd=cwd).returncode == 0
    created = run_cli("keys", "create", "--account", "chaos", env=env, cwd=cwd)
    assert created.returncode == 0, created.stderr
    return created.stdout.split()[-1]


class Submission:
    """`submit_all` in a thread, so the test can kill processes meanwhile."""

    def __init__(self, bases: list[str], key: str, count: int, callback_url: str) -> None:
        self.outcomes: Outcomes | None = None
        self.sent = 0
        self._thread = threading.Thread(
            target=lambda: setattr(
                self,
                "outcomes",
                asyncio.run(
                    submit_all(
                        bases, key, count=count, callback_url=callback_url, run=uuid.uuid4().hex[:8]
                    )
                ),
            ),
            daemon=True,
        )
        self._thread.start()

    def join(self, timeout_s: float = 300) -> Outcomes:
        self._thread.join(timeout_s)
        assert self.outcomes is not None, "submission did not finish"
        return self.outcomes


def count_tasks(base: str, key: str) -> int:
    try:
        return int(
            httpx.get(f"{base}/v1/tasks", params={"limit": 1}, auth=(key, "")).json()["total"]
        )
    except (httpx.HTTPError, KeyError, ValueError):
        return 0


@needs_pg
def test_kill_a_worker_and_an_api_mid_run(
    tmp_path: Path,
    pg_env: dict[str, str],
    receiver: Receiver,
    processes: list[Process],
    chaos: random.Random,
) -> None:
    """2 api + 2 workers, 5,000 tasks; kill -9 one of each mid-run: nothing lost or doubled."""
    key = account_key(pg_env, tmp_path)
    apis = [api_process(pg_env, tmp_path, f"api{i}").start() for i in (1, 2)]
    workers = [worker_process(pg_env, tmp_path, f"worker{i}").start() for i in (1, 2)]
    processes.extend([*apis, *workers])
    submission = Submission([a.url for a in apis], key, 5000, receiver.url)

    api, worker = chaos.choice(apis), chaos.choice(workers)
    survivor = apis[1] if api is apis[0] else apis[0]
    wait_for_tasks(survivor.url, key, chaos.randrange(500, 3500))
    worker.kill9()
    time.sleep(chaos.uniform(0, 1))
    api.kill9()
    time.sleep(chaos.uniform(0.2, 3))
    api.start()
    worker.start()

    outcomes = submission.join()
    assert len(outcomes.accepted) == 5000
    wait_until_settled(pg_env["HOOKLINE_DATABASE_URL"], "chaos", outcomes, receiver)


@needs_pg
def test_one_unique_id_across_two_apis(
    tmp_path: Path, pg_env: dict[str, str], processes: list[Process]
) -> None:
    """50 concurrent creates with one unique_id over two api processes: exactly one task."""
    key = account_key(pg_env, tmp_path)
    apis = [api_process(pg_env, tmp_path, f"api{i}").start() for i in (1, 2)]
    processes.extend(apis)

    async def race() -> list[int]:
        async with httpx.AsyncClient(auth=(key, ""), timeout=30) as client:
            responses = await asyncio.gather(
                *(
                    client.post(f"{apis[i % 2].url}/v1/task/echo", json={"unique_id": "one"})
                    for i in range(50)
                )
            )
        return sorted(r.status_code for r in responses)

    assert asyncio.run(race()) == [200] + [409] * 49
    listed = httpx.get(f"{apis[0].url}/v1/tasks", params={"unique_id": "one"}, auth=(key, ""))
    assert listed.json()["total"] == 1


def _pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        timeout=60,
        capture_output=True,
    )


def _pg_ready() -> bool:
    result = subprocess.run(
        ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False, timeout=10
    )
    return result.returncode == 0


@needs_pg
@pytest.mark.skipif(not os.path.isdir("/etc/postgresql"), reason="no local PostgreSQL cluster")
def test_database_outage_mid_run(
    tmp_path: Path,
    pg_env: dict[str, str],
    receiver: Receiver,
    processes: list[Process],
    chaos: random.Random,
) -> None:
    """PostgreSQL stops for a few seconds mid-run: processes recover, nothing accepted is lost."""
    key = account_key(pg_env, tmp_path)
    apis = [api_process(pg_env, tmp_path, f"api{i}").start() for i in (1, 2)]
    workers = [worker_process(pg_env, tmp_path, f"worker{i}").start() for i in (1, 2)]
    processes.extend([*apis, *workers])
    submission = Submission([a.url for a in apis], key, 2000, receiver.url)
    wait_for_tasks(apis[0].url, key, chaos.randrange(200, 1200))
    try:
        _pg_ctl("stop")
        time.sleep(chaos.uniform(2, 8))
        ready = httpx.get(f"{apis[0].url}/readyz", timeout=5)
        assert ready.status_code == 503
    finally:
        _pg_ctl("start")
        until = time.monotonic() + 60
        while not _pg_ready() and time.monotonic() < until:
            time.sleep(0.5)
    outcomes = submission.join()
    assert len(outcomes.accepted) == 2000
    until = time.monotonic() + 60
    while httpx.get(f"{apis[0].url}/readyz", timeout=5).status_code != 200:
        assert time.monotonic() < until, "api did not become ready again"
        time.sleep(0.5)
    wait_until_settled(pg_env["HOOKLINE_DATABASE_URL"], "chaos", outcomes, receiver)
    assert all(p.popen is not None and p.popen.poll() is None for p in processes)


def test_kill_the_embedded_server_mid_run(
    tmp_path: Path, receiver: Receiver, processes: list[Process], chaos: random.Random
) -> None:
    """kill -9 `hookline serve` on SQLite mid-run and restart it: nothing lost or doubled."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    url = f"sqlite+aiosqlite:///{tmp_path / 'hookline.db'}"
    env = base_env(env | {"PYTHONUNBUFFERED": "1", "HOOKLINE_DATABASE_URL": url})
    key = account_key(env, tmp_path)
    serve = api_process(env, tmp_path, "serve", role="serve").start()
    processes.append(serve)
    submission = Submission([serve.url], key, 2000, receiver.url)
    wait_for_tasks(serve.url, key, chaos.randrange(200, 1400))
    serve.kill9()
    time.sleep(chaos.uniform(0.2, 3))
    serve.start()
    outcomes = submission.join()
    assert len(outcomes.accepted) == 2000
    wait_until_settled(url, "chaos", outcomes, receiver)
