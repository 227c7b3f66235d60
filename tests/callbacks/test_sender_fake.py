"""The callback sender's loop against an in-memory outbox (no database) and a real receiver
on 127.0.0.1 whose answers the test releases; no sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from hookline.callbacks import CallbackSender, callback_session
from hookline.config import CallbacksSettings
from hookline.models import DueDelivery
from hookline.schedule import Next
from hookline.store.deliveries import AttemptRecord
from tests.fakes import FixedClock, Wakeup, idle, until

SETTINGS = CallbacksSettings(
    allow_networks=("127.0.0.0/8",),
    per_host_concurrency=1,
    timeout_s=5,
    claim_interval_s=0,  # no pacing: every wait in these tests ends on an event, not on time
)


@dataclass
class Outbox:
    """An in-memory `ports.DeliveryOutbox`: one due delivery a claim, hosts skipped as asked."""

    due: list[DueDelivery] = field(default_factory=list)
    skipped: list[list[str]] = field(default_factory=list)
    recorded: list[AttemptRecord] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def claim(
        self, *, worker: str, limit: int, lease_s: float, skip_hosts: Sequence[str] = ()
    ) -> Sequence[DueDelivery]:
        self.skipped.append(list(skip_hosts))
        for delivery in self.due:
            if delivery.host not in skip_hosts:
                self.due.remove(delivery)
                return [delivery]
        return []

    async def record(self, worker: str, outcome: AttemptRecord) -> None:
        self.recorded.append(outcome)
        self.changed.set()


@dataclass
class FakeStore:
    """What `CallbackSender` needs of a store (`ports.SenderStore`), in memory."""

    deliveries: Outbox
    signals: Wakeup
    db: FixedClock = field(default_factory=FixedClock)


@dataclass
class Gated:
    """A receiver that answers each POST only once the test opens its gate."""

    url: str = ""
    arrived: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    status: int = 200
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.arrived.append(request.headers["webhook-id"])
        self.changed.set()
        await self.gate.wait()
        return web.Response(status=self.status)


@pytest.fixture
async def receiver() -> AsyncIterator[Gated]:
    found = Gated()
    app = web.Application()
    app.router.add_post("/cb", found.handle)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.url = f"http://127.0.0.1:{port}/cb"
    yield found
    found.gate.set()
    await runner.cleanup()


def due(delivery_id: str, url: str, host: str = "127.0.0.1") -> DueDelivery:
    return DueDelivery(
        id=delivery_id,
        url=url,
        host=host,
        payload={"task_id": delivery_id},
        attempts=0,
        callback_auth_key="auth",
        secrets=("whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3",),
    )


@pytest.fixture
async def sender() -> AsyncIterator[Callable[[Outbox, Wakeup], asyncio.Event]]:
    """`sender(outbox, wakeup)`: a sender running until the test ends; returns its stop."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []
    async with callback_session(SETTINGS) as session:

        def start(outbox: Outbox, wakeup: Wakeup) -> asyncio.Event:
            store = FakeStore(deliveries=outbox, signals=wakeup)
            stop = asyncio.Event()
            loop = CallbackSender(store, session, SETTINGS, worker="fake").run(stop)
            running.append((stop, asyncio.create_task(loop)))
            return stop

        yield start
        for stop, task in running:
            stop.set()
            await asyncio.wait_for(task, 10)


async def at_least(items: list[Any], n: int, changed: asyncio.Event) -> None:
    """Wait (bounded: real sockets take real turns) until `items` has `n` entries."""
    async with asyncio.timeout(5):
        while len(items) < n:
            changed.clear()
            await changed.wait()


async def arrived(receiver: Gated, n: int) -> None:
    await at_least(receiver.arrived, n, receiver.changed)


async def recorded(outbox: Outbox, n: int) -> None:
    await at_least(outbox.recorded, n, outbox.changed)


async def test_each_attempt_is_recorded_with_its_next_step(
    receiver: Gated, sender: Callable[[Outbox, Wakeup], asyncio.Event]
) -> None:
    """A 2xx is recorded as Next.SUCCEEDED, a 500 as Next.SEND_AGAIN with a time (the enum)."""
    outbox, wakeup = Outbox([due("d1", receiver.url)]), Wakeup()
    sender(outbox, wakeup)
    receiver.gate.set()
    await recorded(outbox, 1)
    receiver.status = 500
    outbox.due.append(due("d2", receiver.url))
    wakeup.wake()
    await recorded(outbox, 2)
    first, second = outbox.recorded
    assert (first.delivery_id, first.status_code, first.next) == ("d1", 200, Next.SUCCEEDED)
    assert (second.delivery_id, second.status_code, second.next) == ("d2", 500, Next.SEND_AGAIN)
    assert second.next_attempt_at is not None
    assert receiver.arrived == ["msg_d1", "msg_d2"]


async def test_an_idle_sender_claims_once_until_woken(
    receiver: Gated, sender: Callable[[Outbox, Wakeup], asyncio.Event]
) -> None:
    """With nothing due the sender waits for an announcement; the announcement claims at once."""
    outbox, wakeup = Outbox(), Wakeup()
    sender(outbox, wakeup)
    await until(lambda: wakeup.waits == 1)
    await idle()
    assert outbox.skipped == [[]]
    receiver.gate.set()
    outbox.due.append(due("d1", receiver.url))
    wakeup.wake()
    await recorded(outbox, 1)
    assert len(outbox.skipped) == 2


async def test_a_host_at_its_cap_is_skipped_until_a_slot_frees(
    receiver: Gated, sender: Callable[[Outbox, Wakeup], asyncio.Event]
) -> None:
    """per_host_concurrency=1: the next claim skips the busy host; its answer wakes the loop."""
    outbox, wakeup = Outbox([due("d1", receiver.url)]), Wakeup()
    sender(outbox, wakeup)
    await arrived(receiver, 1)
    outbox.due.append(due("d2", receiver.url))
    wakeup.wake()
    await until(lambda: len(outbox.skipped) == 2)
    await idle()
    assert outbox.skipped == [[], ["127.0.0.1"]]
    receiver.gate.set()  # d1 is answered: its slot frees, with no announcement
    await arrived(receiver, 2)
    assert outbox.skipped == [[], ["127.0.0.1"], []]
    await recorded(outbox, 2)


async def test_stop_lets_the_attempt_in_flight_finish(
    receiver: Gated, sender: Callable[[Outbox, Wakeup], asyncio.Event]
) -> None:
    """Stopped mid-attempt, the sender claims nothing more and records the attempt, then ends."""
    outbox, wakeup = Outbox([due("d1", receiver.url)]), Wakeup()
    stop = sender(outbox, wakeup)
    await arrived(receiver, 1)
    stop.set()
    await idle()
    outbox.due.append(due("d2", receiver.url))
    receiver.gate.set()
    await recorded(outbox, 1)
    assert [o.delivery_id for o in outbox.recorded] == ["d1"]
    assert len(outbox.skipped) == 1
