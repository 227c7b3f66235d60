"""A real `hookline serve` (SQLite) for the client's end-to-end tests, and a callback receiver.

The client commands run as `python -m hookline` subprocesses with only HOOKLINE_URL and
HOOKLINE_KEY set: they reach the server over HTTP and know nothing of its database.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.e2e.conftest import HOOKLINE, Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `hookline serve` per test module; callbacks may reach 127.0.0.1, two attempts each."""
    cwd = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env |= {
        "PYTHONUNBUFFERED": "1",
        "HOOKLINE_FILES_DIR": str(cwd / "files"),
        "HOOKLINE_DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'hookline.db'}",
        "HOOKLINE_CALLBACKS_ALLOW_NETWORKS": "127.0.0.0/8",
        "HOOKLINE_CALLBACKS_SCHEDULE_S": "0,0.1",
    }
    started = start_server(cwd, env)
    yield started
    started.stop()


@dataclass
class Cli:
    """Runs `hookline ARGS` as a client of `server` (HOOKLINE_URL and HOOKLINE_KEY set)."""

    server: Server
    cwd: Path

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
        return env | {
            "HOOKLINE_URL": self.server.base_url,
            "HOOKLINE_KEY": self.server.live_key,
            "COLUMNS": "200",
        }

    def __call__(
        self, *args: str, timeout_s: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*HOOKLINE, *args],
            env=self.env | (env or {}),
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*HOOKLINE, *args],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """The server's JSON answer to a direct API call (to check what the CLI did)."""
        answer = httpx.request(
            method,
            f"{self.server.api_url}{path}",
            auth=(self.server.live_key, ""),
            timeout=10,
            **kwargs,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def count(self, **params: str) -> int:
        """How many tasks GET /v1/tasks finds with these filters."""
        return int(self.api("GET", "/tasks", params=params | {"limit": "1"})["total"])


@pytest.fixture
def cli(server: Server, tmp_path: Path) -> Cli:
    return Cli(server, tmp_path)


def wait_for(check: Callable[[], Any], *, timeout_s: float = 15, what: str = "condition") -> Any:
    """`check()`'s first truthy value, polled every 0.1 s for at most `timeout_s`."""
    until = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > until:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Receiver:
    """A callback receiver on 127.0.0.1 answering `status` to every POST."""

    url: str
    status: int = 200
    received: list[bytes] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(body)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/cb"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


class FakeServer:
    """Answers each request with the next of `answers` and records what it was sent."""

    def __init__(self, answers: list[web.Response]) -> None:
        self.answers = answers
        self.seen: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(
            {
                "method": request.method,
                "path": request.path,
                "query": list(request.query.items()),
                "auth": request.headers.get("Authorization"),
                "body": await request.read(),
            }
        )
        return self.answers.pop(0)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeServer, str]]:
    server = FakeServer([])
    app = web.Application()

    async def route(request: web.Request) -> web.Response:
        return await server.handle(request)  # looked up per request: a test may replace it

    app.router.add_route("*", "/{tail:.*}", route)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield server, f"http://127.0.0.1:{port}"
    await runner.cleanup()
