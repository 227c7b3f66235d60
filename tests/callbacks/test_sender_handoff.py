"""The sender's side of the handoff (`signals.Handoff`): slots taken from the transaction that
creates a delivery, within the sender's caps; and the wake-up at a retry's time. In-memory
outbox, real receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from hookline.callbacks import CallbackSender, callback_session
from hookline.schedule import Next
from tests.callbacks.test_sender_fake import (
    SETTINGS,
    FakeStore,
    Gated,
    Outbox,
    arrived,
    due,
    receiver,
    recorded,
)
from tests.fakes import Wakeup, idle, until

__all__ = ["receiver"]  # the fixture, imported for these tests

CAPPED = dataclasses.replace(SETTINGS, concurrency=3, per_host_concurrency=2)


@pytest.fixture
async def running() -> AsyncIterator[tuple[CallbackSender, Outbox, Wakeup]]:
    """A sender (concurrency 3, 2 per host) running until the test ends."""
    outbox, wakeup = Outbox(), Wakeup()
    async with callback_session(CAPPED) as session:
        sender = CallbackSender(
            FakeStore(deliveries=outbox, signals=wakeup), session, CAPPED, worker="fake"
        )
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        await until(lambda: wakeup.waits == 1)
        yield sender, outbox, wakeup
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_take_holds_to_the_caps_and_give_sends_at_once(
    receiver: Gated, running: tuple[CallbackSender, Outbox, Wakeup]
) -> None:
    sender, outbox, wakeup = running
    assert sender.take(["a", "b", "c"]) == [True, True, True]  # concurrency 3
    sender.cancel(["a", "b"])  # that transaction rolled back: its slots are free again
    assert sender.take(["c", "d"]) == [True, True]
    sender.cancel(["c", "c", "d"])
    assert sender.take(["127.0.0.1", "127.0.0.1"]) == [True, True]
    sender.give([due("d1", receiver.url), due("d2", receiver.url)])
    await arrived(receiver, 2)  # sent with no claim and no announcement
    assert wakeup.waits == 1
    assert len(outbox.skipped) == 1
    receiver.gate.set()
    await recorded(outbox, 2)
    assert [r.next for r in outbox.recorded] == [Next.SUCCEEDED, Next.SUCCEEDED]


async def test_once_a_delivery_is_left_for_a_claim_new_ones_queue_behind_it(
    running: tuple[CallbackSender, Outbox, Wakeup],
) -> None:
    """A delivery refused for want of a slot waits for the claim loop; later ones are refused
    too (a slot they took would make that claim come back empty) until a claim catches up."""
    sender, outbox, wakeup = running
    assert sender.take(["a", "a", "a", "b"]) == [True, True, False, False]  # 2 per host
    sender.cancel(["a", "a"])
    assert sender.take(["b"]) == [False]
    wakeup.wake()  # the announcement of the refused ones: the claim finds nothing more
    await until(lambda: len(outbox.skipped) == 2)
    assert sender.take(["b"]) == [True]
    sender.cancel(["b"])


async def test_a_stopped_sender_takes_nothing(receiver: Gated) -> None:
    outbox, wakeup = Outbox(), Wakeup()
    async with callback_session(CAPPED) as session:
        sender = CallbackSender(
            FakeStore(deliveries=outbox, signals=wakeup), session, CAPPED, worker="fake"
        )
        assert sender.take(["h"]) == [False]  # not running yet
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        await until(lambda: wakeup.waits == 1)
        assert sender.take(["h"]) == [True]
        stop.set()
        await asyncio.wait_for(task, 10)
        sender.give([due("late", receiver.url)])  # committed after stop: left to its lease
        await idle()
        assert receiver.arrived == []
        assert sender.take(["h"]) == [False]


async def test_a_retry_wakes_the_sender_when_it_is_due(receiver: Gated) -> None:
    """No announcement and no poll (the fake wake-up never fires on time): the sender claims
    again because the retry it recorded came due."""
    settings = dataclasses.replace(SETTINGS, schedule_s=(0.0, 0.05, 0.05), poll_s=3600)
    outbox, wakeup = Outbox([due("d1", receiver.url)]), Wakeup()
    async with callback_session(settings) as session:
        sender = CallbackSender(
            FakeStore(deliveries=outbox, signals=wakeup), session, settings, worker="fake"
        )
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        receiver.status = 500
        receiver.gate.set()
        await recorded(outbox, 1)
        assert outbox.recorded[0].next is Next.SEND_AGAIN
        claims = len(outbox.skipped)
        outbox.due.append(due("d1-again", receiver.url))
        await recorded(outbox, 2)  # bounded: 5 s
        assert len(outbox.skipped) > claims
        stop.set()
        await asyncio.wait_for(task, 10)
