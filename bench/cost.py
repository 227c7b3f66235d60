"""What one task costs from create to delivered: transactions, statements, rows, CPU.

Runs the whole pipeline in one process (the ASGI app through httpx, the
dispatcher, the callback sender, a local receiver on 127.0.0.1) and counts
what the database sees while N tasks go through one at a time (no overlap: a
task's cost is not shared with another's, which is the low-load case) or all
at once (`--burst`). SQLAlchemy's engine events count the asyncio engine's
statements; SQLite's writer thread is counted by SQLite itself (its trace
callback: each row of an executemany is one statement, as SQLite runs it).

    python bench/cost.py [--n 200] [--burst] [--url sqlite+aiosqlite:///PATH]

Prints one JSON object: per-task averages and the statement kinds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import event

from hookline.callbacks import CallbackSender, callback_session
from hookline.config import load_settings
from hookline.dispatch import Dispatcher
from hookline.handlers.registry import build_handlers
from hookline.ingress import create_app
from hookline.models import ALL_SCOPES, Environment
from hookline.store import open_store


class Counts:
    def __init__(self) -> None:
        self.statements = 0
        self.transactions = 0
        self.rows = 0
        self.connects = 0
        self.kinds: collections.Counter[str] = collections.Counter()

    def reset(self) -> None:
        self.statements = self.transactions = self.rows = self.connects = 0
        self.kinds.clear()

    def attach_writer(self, engine: Any) -> None:
        """SQLite's writer thread runs most statements on the sqlite3 cursor itself, past
        SQLAlchemy's events (`store/sqlite_plans.py`), and opens and ends its transactions
        there too: count what SQLite is asked to run (its trace callback, BEGIN and COMMIT
        included), and the rows changed by each transaction it ends."""

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _r: Any) -> None:
            self.connects += 1
            ended_at = [dbapi_conn.total_changes]

            def traced(statement: str) -> None:
                verb = statement.split(None, 1)[0].upper()
                if verb in ("COMMIT", "ROLLBACK"):
                    self.transactions += 1
                    self.rows += dbapi_conn.total_changes - ended_at[0]
                    ended_at[0] = dbapi_conn.total_changes
                elif verb != "BEGIN":
                    self.statements += 1
                self.kinds[_kind(statement)] += 1

            dbapi_conn.set_trace_callback(traced)

    def attach(self, engine: Any) -> None:
        @event.listens_for(engine, "after_cursor_execute")
        def _after(_c: Any, cursor: Any, statement: str, params: Any, _x: Any, many: bool) -> None:
            self.statements += 1
            rowcount = getattr(cursor, "rowcount", -1)
            self.rows += max(rowcount, 0)
            self.kinds[_kind(statement)] += 1

        @event.listens_for(engine, "connect")
        def _connect(_c: Any, _r: Any) -> None:
            self.connects += 1

        @event.listens_for(engine, "commit")
        def _commit(_c: Any) -> None:
            self.transactions += 1

        @event.listens_for(engine, "rollback")
        def _rollback(_c: Any) -> None:
            self.transactions += 1


def _kind(statement: str) -> str:
    words = statement.split()
    head = " ".join(words[:1]).upper()
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement, re.IGNORECASE)
    return f"{head} {table.group(1) if table else ''}".strip()


async def main(n: int, burst: bool, url: str | None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="hookline-cost-"))
    url = url or f"sqlite+aiosqlite:///{work / 'cost.db'}"
    settings = load_settings(
        environ={
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS": "127.0.0.0/8",
            "HOOKLINE_FILES_DIR": str(work / "files"),
        }
    )
    store = open_store(url, settings.database)
    await store.migrate()
    key = await store.accounts.create_key(
        account="cost", environment=Environment.LIVE, scopes=ALL_SCOPES
    )
    delivered: dict[str, float] = {}
    done = asyncio.Event()
    arrived = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        body = await request.json()
        delivered.setdefault(body["task_id"], time.perf_counter())
        arrived.set()
        if len(delivered) >= n:
            done.set()
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/cb", receive)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    callback_url = f"http://127.0.0.1:{port}/cb"

    stop = asyncio.Event()
    store.signals.dispatching = store.signals.sending = True
    import aiohttp

    async with aiohttp.ClientSession() as session, callback_session(settings.callbacks) as cb_http:
        handlers = build_handlers(settings.handlers, session)
        sender = CallbackSender(store, cb_http, settings.callbacks, worker="cost-sender")
        store.signals.handoff = sender  # as runtime.py wires it
        dispatcher = Dispatcher(store, handlers, worker="cost-dispatcher")
        store.signals.inline = dispatcher.inline()
        loops = [asyncio.create_task(sender.run(stop)), asyncio.create_task(dispatcher.run(stop))]
        app = create_app(store=store, settings=settings)
        transport = httpx.ASGITransport(app=app)
        counts = Counts()
        for engine in {store.db.engines.write, store.db.engines.read}:
            counts.attach(engine.sync_engine)
        if store.db.engines.writer is not None:  # SQLite's writer thread
            counts.attach_writer(store.db.engines.writer.engine)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hookline", auth=(key, "")
        ) as client:
            await _submit(client, callback_url, "warm", 0)
            await asyncio.sleep(0.5)
            delivered.clear()
            counts.reset()
            cpu0, t0, threads0 = time.process_time(), time.perf_counter(), _thread_cpu()
            if burst:
                await asyncio.gather(*(_submit(client, callback_url, "b", i) for i in range(n)))
            else:
                for i in range(n):
                    await _submit(client, callback_url, "s", i)
                    while len(delivered) <= i:
                        arrived.clear()
                        await arrived.wait()
            await asyncio.wait_for(done.wait(), 60)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
            threads = {k: round(v - threads0.get(k, 0), 2) for k, v in _thread_cpu().items()}
        stop.set()
        await asyncio.gather(*loops)
    await runner.cleanup()
    await store.close()
    return {
        "n": n,
        "mode": "burst" if burst else "one at a time",
        "backend": url.split(":", 1)[0],
        "transactions_per_task": round(counts.transactions / n, 2),
        "statements_per_task": round(counts.statements / n, 2),
        "rows_per_task": round(counts.rows / n, 2),
        "connections_opened": counts.connects,
        "cpu_ms_per_task": round(cpu * 1000 / n, 3),
        "wall_ms_per_task": round(wall * 1000 / n, 3),
        "thread_cpu_s": threads,
        "statement_kinds_per_task": {k: round(v / n, 2) for k, v in counts.kinds.most_common()},
    }


def _thread_cpu() -> dict[str, float]:
    """CPU seconds by thread name (Linux), to tell the event loop from SQLite's threads."""
    out: dict[str, float] = collections.defaultdict(float)
    main = str(os.getpid())
    for task in Path("/proc/self/task").iterdir():
        name = "event loop" if task.name == main else "other threads (SQLite)"
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        out[name] += (int(fields[11]) + int(fields[12])) / 100
    return dict(out)


async def _submit(client: httpx.AsyncClient, callback_url: str, run: str, i: int) -> None:
    body = {"callback_url": callback_url, "instruction": "x", "params": {"i": i}}
    answer = await client.post(
        "/v1/task/echo", json=body | {"unique_id": f"cost-{run}-{i}-{time.time_ns()}"}
    )
    answer.raise_for_status()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--url")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.n, args.burst, args.url)), indent=1))  # noqa: T201
