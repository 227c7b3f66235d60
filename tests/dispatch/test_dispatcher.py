"""The dispatcher against the real store (both backends) and real local HTTP workers."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hookline.config import HandlerSettings
from hookline.dispatch import Dispatcher
from hookline.errors import Conflict
from hookline.handlers.registry import build_handlers
from hookline.models import (
    EventFilter,
    Principal,
    SettleKind,
    Settlement,
    Task,
    TaskStatus,
)
from hookline.store import Store
from tests.conftest import Account, new_task


async def wait_until_settled(
    store: Store, who: Principal, task_id: str, timeout_s: float = 10
) -> Task:
    deadline = time.monotonic() + timeout_s
    while True:
        task = await store.tasks.get(who, task_id)
        if task.status is not TaskStatus.PENDING or time.monotonic() > deadline:
            return task
        await asyncio.sleep(0.02)


async def actions(store: Store, who: Principal, task_id: str) -> list[str]:
    found, _ = await store.events.events(
        who, EventFilter(task_id=task_id), after_id=None, limit=100
    )
    return [e.action for e in found]


RunDispatcher = Callable[..., Dispatcher]


def fresh(name: str) -> str:
    """A task type no other test uses: dispatchers claim across every account of the database."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def run_dispatcher(store: Store) -> AsyncIterator[RunDispatcher]:
    """`run_dispatcher(handlers, **options)`: a dispatcher running until the test ends."""
    session = aiohttp.ClientSession()
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def start(handlers: dict[str, HandlerSettings], **options: Any) -> Dispatcher:
        options = {"worker": f"test-{len(running)}", "lease_s": 5, "poll_s": 0.1} | options
        dispatcher = Dispatcher(store, build_handlers(handlers, session), **options)
        stop = asyncio.Event()
        running.append((stop, asyncio.create_task(dispatcher.run(stop))))
        return dispatcher

    yield start
    for stop, task in running:
        stop.set()
        await asyncio.wait_for(task, 10)
    await session.close()


async def test_echo_task_completes_at_once(
    store: Store, account: Account, run_dispatcher: RunDispatcher
) -> None:
    """An echo task is completed by the dispatcher moments after it is created."""
    kind = fresh("echo")
    run_dispatcher({kind: HandlerSettings(kind="echo")})
    started = time.monotonic()
    task = await store.tasks.create(account.live, new_task(kind, params={"n": 1}))
    done = await wait_until_settled(store, account.live, task.id)
    assert done.status is TaskStatus.COMPLETED
    assert done.response == {"echo": {"n": 1}}
    assert time.monotonic() - started < 2
    assert await actions(store, account.live, task.id) == ["created", "claimed", "completed"]


async def test_manual_types_are_left_for_workers(
    store: Store, account: Account, run_dispatcher: RunDispatcher
) -> None:
    """A type with no handler stays pending and unleased while the dispatcher runs."""
    kind = fresh("echo")
    run_dispatcher({kind: HandlerSettings(kind="echo")})
    task = await store.tasks.create(
        account.live, new_task(fresh("manual"), params={"attachment": "a"})
    )
    echo = await store.tasks.create(account.live, new_task(kind))
    await wait_until_settled(store, account.live, echo.id)
    still = await store.tasks.get(account.live, task.id)
    assert (still.status, still.worker) == (TaskStatus.PENDING, None)


@pytest.fixture
async def flaky_worker() -> AsyncIterator[tuple[str, list[str]]]:
    """A worker on 127.0.0.1 that answers 500, then hangs past the timeout, then 200."""
    seen: list[str] = []

    async def work(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body["task_id"])
        if len(seen) == 1:
            return web.json_response({"oops": True}, status=500)
        if len(seen) == 2:
            await asyncio.sleep(2)
        return web.json_response({"label": "cat", "attempt": len(seen)})

    app = web.Application()
    app.router.add_post("/work", work)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/work", seen
    await runner.cleanup()


async def test_http_handler_retries_then_completes_once(
    store: Store,
    account: Account,
    run_dispatcher: RunDispatcher,
    flaky_worker: tuple[str, list[str]],
) -> None:
    """A 500 and a timeout are retried with backoff; the third answer completes the task once."""
    url, seen = flaky_worker
    kind = fresh("labeling")
    run_dispatcher(
        {kind: HandlerSettings(kind="http", url=url, timeout_s=0.5, max_attempts=5, backoff_s=0.05)}
    )
    task = await store.tasks.create(account.live, new_task(kind, params={"attachment": "a"}))
    done = await wait_until_settled(store, account.live, task.id)
    assert done.status is TaskStatus.COMPLETED
    assert done.response == {"label": "cat", "attempt": 3}
    assert seen == [task.id] * 3
    assert await actions(store, account.live, task.id) == [
        "created",
        "claimed",
        "attempt_failed",
        "claimed",
        "attempt_failed",
        "claimed",
        "completed",
    ]
    trail, _ = await store.events.events(
        account.live,
        EventFilter(task_id=task.id, actions=("attempt_failed",)),
        after_id=None,
        limit=10,
    )
    assert "500" in (trail[0].reason or "")
    assert "timed out" in (trail[1].reason or "")


async def test_http_handler_gives_up_after_max_attempts(
    store: Store, account: Account, run_dispatcher: RunDispatcher
) -> None:
    """An unreachable worker is tried max_attempts times, then the task is an error."""
    kind = fresh("gone")
    run_dispatcher(
        {
            kind: HandlerSettings(
                kind="http", url="http://127.0.0.1:9/none", max_attempts=2, backoff_s=0.01
            )
        }
    )
    task = await store.tasks.create(account.live, new_task(kind))
    done = await wait_until_settled(store, account.live, task.id)
    assert done.status is TaskStatus.ERROR
    assert "gave up after 2 attempts" in (done.error or "")
    assert (await actions(store, account.live, task.id)).count("claimed") == 2


async def test_python_handler_by_module_function(
    store: Store, account: Account, run_dispatcher: RunDispatcher
) -> None:
    """A python handler named module:function works tasks; PermanentFailure is an error."""
    shout, refuse = fresh("shout"), fresh("refuse")
    run_dispatcher(
        {
            shout: HandlerSettings(kind="python", target="tests.dispatch.plugins:shout"),
            refuse: HandlerSettings(kind="python", target="tests.dispatch.plugins:refuse"),
        }
    )
    shouted = await store.tasks.create(account.live, new_task(shout, params={"text": "hi"}))
    refused = await store.tasks.create(account.live, new_task(refuse))
    done = await wait_until_settled(store, account.live, shouted.id)
    failed = await wait_until_settled(store, account.live, refused.id)
    assert done.response == {"shouted": "HI", "task_id": shouted.id}
    assert (failed.status, failed.error) == (TaskStatus.ERROR, "this input can never work")
    assert (await actions(store, account.live, refused.id)).count("claimed") == 1


async def test_expired_lease_is_claimed_again(
    store: Store, account: Account, run_dispatcher: RunDispatcher
) -> None:
    """A task held by a crashed worker is recovered when its lease expires, and completed once."""
    kind = fresh("echo")
    task = await store.tasks.create(account.live, new_task(kind))
    claimed = await store.work.claim(worker="crashed", lease_s=1, limit=10, types=[kind])
    assert [t.id for t in claimed] == [task.id]
    run_dispatcher({kind: HandlerSettings(kind="echo")})
    done = await wait_until_settled(store, account.live, task.id)
    assert done.status is TaskStatus.COMPLETED
    assert await actions(store, account.live, task.id) == [
        "created",
        "claimed",
        "lease_expired",
        "claimed",
        "completed",
    ]
    with pytest.raises(Conflict):
        await store.work.settle(
            "crashed", Settlement(task_id=task.id, kind=SettleKind.COMPLETE, response={})
        )


async def test_stop_releases_unfinished_leases(store: Store, account: Account) -> None:
    """On stop, a task still running past the drain deadline is released for others at once."""
    async with aiohttp.ClientSession() as session:
        kind = fresh("slow")
        handlers = build_handlers(
            {kind: HandlerSettings(kind="python", target="tests.dispatch.plugins:slow")}, session
        )
        dispatcher = Dispatcher(
            store, handlers, worker="stopping", lease_s=30, drain_s=0.2, poll_s=0.05
        )
        stop = asyncio.Event()
        running = asyncio.create_task(dispatcher.run(stop))
        task = await store.tasks.create(account.live, new_task(kind))
        deadline = time.monotonic() + 5
        while (await store.tasks.get(account.live, task.id)).worker is None:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(running, 5)
    after = await store.tasks.get(account.live, task.id)
    assert (after.status, after.worker, after.attempts) == (TaskStatus.PENDING, None, 0)
    assert (await actions(store, account.live, task.id))[-1] == "released"
