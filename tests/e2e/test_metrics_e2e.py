"""A real `hookline serve`: after N tasks through it, its /metrics count exactly N."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import HOOKLINE, free_port, run_cli, start_server

pytestmark = pytest.mark.e2e
N = 40


class Receiver(ThreadingHTTPServer):
    """Answers 200 to every POST and counts them."""

    received = 0


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.received += 1
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def samples(base_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counts_equal_the_tasks_put_through(
    tmp_path: Path, e2e_env: dict[str, str], receiver: Receiver
) -> None:
    """N echo tasks with callbacks: created, finished, waits, runs and deliveries are all N."""
    env = e2e_env | {"HOOKLINE_CALLBACKS_ALLOW_NETWORKS": "127.0.0.0/8"}
    server = start_server(tmp_path, env)
    try:
        url = f"http://127.0.0.1:{receiver.server_port}/cb"
        with httpx.Client(base_url=server.base_url, auth=(server.live_key, ""), timeout=10) as api:
            for i in range(N):
                answer = api.post("/v1/task/echo", json={"callback_url": url, "n": i})
                assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 60
        want = {
            (
                "hookline_tasks_created_total",
                frozenset({("type", "echo"), ("environment", "live")}),
            ),
            (
                "hookline_tasks_finished_total",
                frozenset({("type", "echo"), ("status", "completed")}),
            ),
            ("hookline_task_wait_seconds_count", frozenset()),
            ("hookline_task_run_seconds_count", frozenset()),
            ("hookline_callback_attempts_total", frozenset({("outcome", "succeeded")})),
            ("hookline_callback_latency_seconds_count", frozenset()),
        }
        while True:
            found = samples(server.base_url)
            if all(found.get(key) == N for key in want) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert {key: found.get(key) for key in want} == dict.fromkeys(want, N)
        assert receiver.received == N
        depth = "hookline_queue_depth"
        time.sleep(1.1)  # past the gauge's one-second cache
        found = samples(server.base_url)
        assert found[(depth, frozenset({("kind", "tasks")}))] == 0
        assert found[(depth, frozenset({("kind", "deliveries")}))] == 0
        creates = (
            "hookline_http_requests_total",
            frozenset({("route", "/v1/task/{key}"), ("status", "200")}),
        )
        assert found[creates] == N
    finally:
        server.stop()


def test_api_and_worker_processes_each_export_their_own(
    tmp_path: Path, e2e_env: dict[str, str]
) -> None:
    """`api` counts the creates, `worker --health-port` the finishes; each on its own /metrics."""
    env = e2e_env | {"HOOKLINE_DISPATCHER_POLL_S": "0.2"}
    assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
    key = run_cli("keys", "create", "--account", "ops", env=env, cwd=tmp_path).stdout.split()[-1]
    api_port, health_port = free_port(), free_port()
    started: list[subprocess.Popen[bytes]] = []
    try:
        for args, name in (
            (["api", "--port", str(api_port)], "api"),
            (["worker", "--health-port", str(health_port)], "worker"),
        ):
            with (tmp_path / f"{name}.log").open("wb") as log:
                started.append(
                    subprocess.Popen(
                        [*HOOKLINE, *args], env=env, cwd=tmp_path, stdout=log, stderr=log
                    )
                )
        api_url, worker_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{health_port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if all(
                    httpx.get(f"{u}/healthz", timeout=1).status_code == 200
                    for u in (api_url, worker_url)
                ):
                    break
            except httpx.HTTPError:
                pass
            assert all(p.poll() is None for p in started), "a process exited"
            assert time.monotonic() < deadline, "api or worker did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=api_url, auth=(key, ""), timeout=10) as api:
            for i in range(N):
                assert api.post("/v1/task/echo", json={"n": i}).status_code == 200
        created = (
            "hookline_tasks_created_total",
            frozenset({("type", "echo"), ("environment", "live")}),
        )
        finished = (
            "hookline_tasks_finished_total",
            frozenset({("type", "echo"), ("status", "completed")}),
        )
        deadline = time.monotonic() + 60
        while samples(worker_url).get(finished) != N and time.monotonic() < deadline:
            time.sleep(0.2)
        on_worker, on_api = samples(worker_url), samples(api_url)
        assert on_worker.get(finished) == N
        assert on_worker.get(created) is None
        assert on_api.get(created) == N
        assert on_api.get(finished) is None
        assert on_worker[("hookline_task_wait_seconds_count", frozenset())] == N
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
