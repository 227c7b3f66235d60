"""Callbacks from a real `hookline serve`: signed, and never lost across a kill -9."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from standardwebhooks import Webhook

from tests.e2e.conftest import Server, start_server

pytestmark = pytest.mark.e2e


class ThreadedReceiver:
    """An aiohttp receiver on 127.0.0.1 in a thread of its own; it can refuse, then heal."""

    def __init__(self) -> None:
        self.healthy = False
        self.secret: str | None = None
        self.delivered: Counter[str] = Counter()
        self.refused = 0
        self.bad_signatures = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/cb", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not self.healthy:
            self.refused += 1
            return web.Response(status=503)
        try:
            body = Webhook(self.secret or "").verify(raw, dict(request.headers))
        except Exception:  # noqa: BLE001 - a bad signature is counted, not raised
            self.bad_signatures += 1
            return web.Response(status=401)
        self.delivered[body["task_id"]] += 1
        return web.Response(status=204)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def receiver() -> Iterator[ThreadedReceiver]:
    found = ThreadedReceiver()
    yield found
    found.stop()


def test_callbacks_survive_kill_9(
    tmp_path: Path, e2e_env: dict[str, str], receiver: ThreadedReceiver
) -> None:
    """Completions committed before a kill -9 get their signed callbacks after the restart."""
    env = e2e_env | {
        "HOOKLINE_CALLBACKS_ALLOW_NETWORKS": "127.0.0.0/8",
        "HOOKLINE_CALLBACKS_SCHEDULE_S": ",".join(["0"] + ["0.5"] * 30),
        "HOOKLINE_CALLBACKS_LEASE_S": "3",
        "HOOKLINE_CALLBACKS_TIMEOUT_S": "2",
    }
    first: Server = start_server(tmp_path, env)
    key = first.test_key
    # The first-start test key has no admin scope: read the test secret as an operator does.
    shown = json.loads(first.cli("account", "show", "default").stdout)
    receiver.secret = shown["test"]["webhook_secret"]
    url = f"http://127.0.0.1:{receiver.port}/cb"
    task_ids = [
        httpx.post(
            f"{first.api_url}/task/echo", json={"i": i, "callback_url": url}, auth=(key, "")
        ).json()["task_id"]
        for i in range(30)
    ]
    until = time.monotonic() + 20
    while receiver.refused < 30 and time.monotonic() < until:
        time.sleep(0.05)
    assert receiver.refused >= 30  # every callback was tried and refused at least once
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(10)

    receiver.healthy = True
    second = start_server(tmp_path, env)
    try:
        until = time.monotonic() + 30
        while len(receiver.delivered) < 30 and time.monotonic() < until:
            time.sleep(0.1)
        assert set(receiver.delivered) == set(task_ids)
        assert receiver.bad_signatures == 0
        until = time.monotonic() + 10
        while time.monotonic() < until:
            done = [
                httpx.get(f"{second.api_url}/task/{t}", auth=(key, "")).json()["callback_completed"]
                for t in task_ids
            ]
            if all(done):
                break
            time.sleep(0.2)
        assert all(done)
        trail = httpx.get(f"{second.api_url}/task/{task_ids[0]}/callbacks", auth=(key, "")).json()[
            "deliveries"
        ]
        assert trail[0]["status"] == "succeeded"
        assert trail[0]["attempts"][-1]["status_code"] == 204
        assert json.dumps(trail)  # the attempt log is plain JSON
    finally:
        second.stop()
