"""The callback sender against real aiohttp receivers on 127.0.0.1 that verify every signature."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from hookline.callbacks import CallbackSender, callback_session
from hookline.config import CallbacksSettings
from hookline.models import DeliveryStatus, Environment, Principal
from hookline.store import Store
from tests.conftest import Account, new_task

FAST = CallbacksSettings(
    schedule_s=(0, 0.3, 0.6, 1.2, 2.4),
    timeout_s=0.5,
    allow_networks=("127.0.0.0/8",),
    retry_after_max_s=5,
    poll_s=0.05,
    lease_s=10,
)


@dataclass
class Receiver:
    """Answers by `?mode=`: the first attempt of a task fails that way, later ones succeed."""

    secret: str
    url: str = ""
    seen: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ok: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bad_signatures: int = 0
    always: int | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = Webhook(self.secret).verify(raw, dict(request.headers))
        except Exception:  # noqa: BLE001 - count, answer 401 like a real receiver
            self.bad_signatures += 1
            return web.Response(status=401)
        task_id = body["task_id"]
        self.seen[task_id].append(time.monotonic())
        first = len(self.seen[task_id]) == 1
        mode = request.query.get("mode", "ok")
        if self.always is not None:
            return web.Response(status=self.always)
        if first and mode == "500":
            return web.Response(status=500)
        if first and mode == "429":
            return web.Response(status=429, headers={"Retry-After": "1"})
        if first and mode == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if first and mode == "timeout":
            await asyncio.sleep(1.0)  # longer than the sender waits: outcome unknown to it
        self.ok[task_id] += 1
        return web.json_response({"received": task_id})


@pytest.fixture
async def receiver(store: Store, account: Account) -> AsyncIterator[Receiver]:
    # The tests below send test-environment tasks, signed with that environment's secret.
    secret = (await store.accounts.credentials(account.name, Environment.TEST)).webhook_secret
    found = Receiver(secret=secret)
    app = web.Application()
    app.router.add_post("/cb", found.handle)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.url = f"http://127.0.0.1:{port}/cb"
    yield found
    await runner.cleanup()


RunSender = Callable[..., None]


@pytest.fixture
async def run_sender(store: Store) -> AsyncIterator[RunSender]:
    stops: list[tuple[asyncio.Event, asyncio.Task[None], Any]] = []

    def start(settings: CallbacksSettings = FAST) -> None:
        session = callback_session(settings)
        sender = CallbackSender(store, session, settings, worker=f"sender-{len(stops)}")
        stop = asyncio.Event()
        stops.append((stop, asyncio.create_task(sender.run(stop)), session))

    yield start
    for stop, task, session in stops:
        stop.set()
        await asyncio.wait_for(task, 15)
        await session.close()


async def create_done(store: Store, who: Principal, url: str) -> str:
    """A test-environment task: completed in its create, its callback enqueued with it."""
    task = await store.tasks.create(
        who, new_task(callback_url=url), completed_response={"ok": True}
    )
    return task.id


async def wait_for(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


MODES = ("ok", "500", "429", "reset", "timeout")


async def test_thousand_callbacks_through_failures_all_arrive(
    store: Store, account: Account, receiver: Receiver, run_sender: RunSender
) -> None:
    """1,000 callbacks through 500s, 429s, resets and timeouts: all delivered, none lost."""
    run_sender(dataclasses.replace(FAST, per_host_concurrency=64, concurrency=128))
    modes: dict[str, str] = {}
    for i in range(1000):
        mode = MODES[i % len(MODES)]
        task_id = await create_done(store, account.test, f"{receiver.url}?mode={mode}")
        modes[task_id] = mode
    await wait_for(lambda: len(receiver.ok) == 1000, timeout_s=60)
    assert receiver.bad_signatures == 0

    # Duplicates only where the sender could not know the outcome: it timed out waiting
    # for an answer (the "timeout" mode always; under load, any slow answer may).
    for task_id in (t for t, n in receiver.ok.items() if n > 1):
        [delivery] = await store.deliveries.for_task(account.test, task_id)
        errors = [a.error for a in delivery.attempt_log]
        assert "timeout" in errors, (modes[task_id], errors)
    # Retries waited for the schedule (0.3 s ±20%), and for Retry-After on a 429.
    for task_id, mode in modes.items():
        arrivals = receiver.seen[task_id]
        if mode == "ok":
            assert len(arrivals) == 1
            continue
        gap = arrivals[1] - arrivals[0]
        assert gap >= (1.0 if mode == "429" else 0.24), (mode, gap)

    async def settled() -> int:
        total = 0
        for task_id in modes:
            task = await store.tasks.get(account.test, task_id)
            total += task.callback_completed
        return total

    deadline = time.monotonic() + 10
    while (n := await settled()) < 1000 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    assert n == 1000


async def test_gone_stops_at_once(
    store: Store, account: Account, receiver: Receiver, run_sender: RunSender
) -> None:
    """410 Gone ends the delivery after one attempt; callback_completed stays false."""
    receiver.always = 410
    run_sender()
    task_id = await create_done(store, account.test, receiver.url)
    await wait_for(lambda: len(receiver.seen[task_id]) == 1, timeout_s=10)
    await asyncio.sleep(1.0)  # the schedule would have retried by now
    [delivery] = await store.deliveries.for_task(account.test, task_id)
    assert (delivery.status.value, len(receiver.seen[task_id])) == ("failed", 1)
    assert [a.status_code for a in delivery.attempt_log] == [410]
    assert not (await store.tasks.get(account.test, task_id)).callback_completed


async def test_spent_schedule_fails_then_resend_and_replay_bring_it_back(
    store: Store, account: Account, receiver: Receiver, run_sender: RunSender
) -> None:
    """After every attempt fails the delivery is failed; resend and replay deliver it later."""
    receiver.always = 503
    run_sender(dataclasses.replace(FAST, schedule_s=(0, 0.1, 0.1)))
    first = await create_done(store, account.test, receiver.url)
    second = await create_done(store, account.test, receiver.url)

    async def statuses() -> set[str]:
        found = set()
        for task_id in (first, second):
            [delivery] = await store.deliveries.for_task(account.test, task_id)
            found.add(delivery.status.value)
        return found

    deadline = time.monotonic() + 10
    while await statuses() != {"failed"}:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert len(receiver.seen[first]) == 3
    assert not (await store.tasks.get(account.test, first)).callback_completed

    receiver.always = None
    await store.deliveries.resend(account.test, first)
    await wait_for(lambda: receiver.ok[first] == 1, timeout_s=10)
    replayed = await store.deliveries.replay(
        account.test, status=DeliveryStatus.FAILED, since=None, until=None
    )
    assert replayed == 1
    await wait_for(lambda: receiver.ok[second] == 1, timeout_s=10)


async def test_default_guard_blocks_loopback(
    store: Store, account: Account, receiver: Receiver, run_sender: RunSender
) -> None:
    """With no allowed networks, a callback to 127.0.0.1 is refused, recorded, and never sent."""
    run_sender(dataclasses.replace(FAST, allow_networks=()))
    by_ip = await create_done(store, account.test, receiver.url)
    by_name = await create_done(store, account.test, receiver.url.replace("127.0.0.1", "localhost"))
    for task_id in (by_ip, by_name):
        deadline = time.monotonic() + 10
        while True:
            [delivery] = await store.deliveries.for_task(account.test, task_id)
            if delivery.status.value == "failed" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert delivery.status.value == "failed"
        assert [a.error for a in delivery.attempt_log] == ["blocked"]
    assert receiver.seen == {}
