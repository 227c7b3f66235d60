"""W1's callback receiver: an aiohttp server on 127.0.0.1 that fails some first attempts.

    python -m bench.receiver [--fail-frac 0.10] [--max-s 1200]

It binds a free port, prints `READY <port>` and serves until SIGTERM, its parent's
death or `--max-s`. `POST /cb` answers 500 to the first attempt of the tasks that
`should_fail_first` picks and 200 otherwise, and records, per task, when the first 2xx
was answered (CLOCK_MONOTONIC, which is system-wide on Linux, so the generator's clock
compares), how many 2xx were answered and how many attempts came. `GET /stats` gives
the number of tasks with a 2xx; `GET /dump` the whole record.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from typing import Any

import click
from aiohttp import web

from bench.summary import should_fail_first, task_id_of


class Receiver:
    """The per-task record of callback attempts; `app()` is its aiohttp application."""

    def __init__(self, fail_frac: float) -> None:
        self.fail_frac = fail_frac
        self.first_ok: dict[str, float] = {}
        self.ok_count: dict[str, int] = {}
        self.attempts: dict[str, int] = {}
        self.bad_bodies = 0
        self.without_response = 0

    async def callback(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        try:
            body = await request.json()
        except ValueError:
            self.bad_bodies += 1
            return web.Response(status=400, text="body is not JSON")
        task_id = task_id_of(body)
        if task_id is None:
            self.bad_bodies += 1
            return web.Response(status=400, text="body has no task_id")
        if "response" not in body:
            self.without_response += 1
        attempt = self.attempts.get(task_id, 0) + 1
        self.attempts[task_id] = attempt
        if attempt == 1 and should_fail_first(task_id, self.fail_frac):
            return web.Response(status=500, text="injected failure of a first attempt")
        self.ok_count[task_id] = self.ok_count.get(task_id, 0) + 1
        self.first_ok.setdefault(task_id, arrived)
        return web.json_response({"ok": True})

    async def stats(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok_tasks": len(self.first_ok)})

    async def dump(self, _request: web.Request) -> web.Response:
        return web.json_response(self.record())

    def record(self) -> dict[str, Any]:
        return {
            "first_ok": self.first_ok,
            "ok_count": self.ok_count,
            "attempts": self.attempts,
            "bad_bodies": self.bad_bodies,
            "without_response": self.without_response,
        }

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 2**20)
        app.router.add_post("/cb", self.callback)
        app.router.add_get("/stats", self.stats)
        app.router.add_get("/dump", self.dump)
        return app


async def serve(fail_frac: float, max_s: float) -> None:
    """Serve until SIGTERM/SIGINT, the parent's exit or `max_s` seconds."""
    runner = web.AppRunner(Receiver(fail_frac).app(), access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock, backlog=2048).start()
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    parent = os.getppid()
    deadline = time.monotonic() + max_s
    while not stop.is_set() and time.monotonic() < deadline and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    await runner.cleanup()


@click.command()
@click.option("--fail-frac", type=click.FloatRange(0, 1), default=0.10, show_default=True)
@click.option("--max-s", type=click.FloatRange(min=1), default=1200, show_default=True)
def main(fail_frac: float, max_s: float) -> None:
    """Run the W1 callback receiver on a free 127.0.0.1 port."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(fail_frac, max_s))
    else:
        uvloop.run(serve(fail_frac, max_s))


if __name__ == "__main__":
    main()
