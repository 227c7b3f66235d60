"""Real hookline processes on 127.0.0.1 for the failure suite, and a receiver to call back."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiohttp import web

from tests.e2e.conftest import HOOKLINE, free_port


@dataclass
class Process:
    """One hookline role process; restartable with the same arguments."""

    args: list[str]
    env: dict[str, str]
    cwd: Path
    name: str
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> Process:
        self.starts += 1
        with (self.cwd / f"{self.name}.{self.starts}.log").open("wb") as log:
            self.popen = subprocess.Popen(
                [*HOOKLINE, *self.args], env=self.env, cwd=self.cwd, stdout=log, stderr=log
            )
        if self.port is not None:
            self.wait_healthy()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, deadline_s: float = 60) -> None:
        until = time.monotonic() + deadline_s
        while time.monotonic() < until:
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.popen.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not become healthy")

    def kill9(self) -> None:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def api_process(env: dict[str, str], cwd: Path, name: str, role: str = "api") -> Process:
    port = free_port()
    return Process(args=[role, "--port", str(port)], env=env, cwd=cwd, name=name, port=port)


def worker_process(env: dict[str, str], cwd: Path, name: str) -> Process:
    return Process(args=["worker"], env=env, cwd=cwd, name=name)


@dataclass
class Receiver:
    """Counts callbacks per task_id, in a thread with its own event loop."""

    delivered: Counter[str] = field(default_factory=Counter)
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/cb", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.delivered[body["task_id"]] += 1
        return web.Response(status=204)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cb"

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def base_env(env: dict[str, str]) -> dict[str, str]:
    return env | {
        "HOOKLINE_CALLBACKS_ALLOW_NETWORKS": "127.0.0.0/8",
        "HOOKLINE_CALLBACKS_SCHEDULE_S": ",".join(["0"] + ["0.5"] * 60),
        "HOOKLINE_CALLBACKS_LEASE_S": "5",
        "HOOKLINE_CALLBACKS_TIMEOUT_S": "3",
        "HOOKLINE_DISPATCHER_LEASE_S": "3",
        "HOOKLINE_DISPATCHER_POLL_S": "0.2",
        "HOOKLINE_DATABASE_STARTUP_WAIT_S": "60",
    }
