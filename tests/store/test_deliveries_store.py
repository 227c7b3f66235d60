from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from hookline.models import DeliveryStatus, EventFilter
from hookline.schedule import Next
from hookline.store import open_store
from hookline.store.sending import LEASE_SWEEP_S
from tests.store.conftest import attempt, sandbox, task_with_callback


async def test_expired_delivery_lease_is_claimed_again(own_database: str) -> None:
    """A sender that dies mid-attempt leaves a leased delivery; after its lease it goes out again."""
    now = [datetime.now().astimezone()]
    store = open_store(own_database, clock=lambda: now[0])
    other = open_store(own_database, clock=lambda: now[0])
    try:
        who = await sandbox(store, "leases")
        task = await store.tasks.create(who, task_with_callback(), completed_response={"ok": 1})
        [first] = await store.deliveries.claim(worker="dead", limit=10, lease_s=30)
        assert first.attempts == 0

        now[0] += timedelta(seconds=29)
        assert await other.deliveries.claim(worker="alive", limit=10, lease_s=30) == []
        [delivery] = await store.deliveries.for_task(who, task.id)
        assert delivery.status is DeliveryStatus.DELIVERING

        # Expired leases are swept every LEASE_SWEEP_S, so it goes out within that.
        now[0] += timedelta(seconds=LEASE_SWEEP_S + 1)
        [again] = await other.deliveries.claim(worker="alive", limit=10, lease_s=30)
        assert again.id == first.id
        assert await other.deliveries.claim(worker="alive", limit=10, lease_s=30) == []
    finally:
        await store.close()
        await other.close()


async def test_claim_takes_due_deliveries_oldest_first_up_to_the_limit(own_database: str) -> None:
    """Only pending deliveries that are due are claimed, the longest-waiting first."""
    now = [datetime.now().astimezone()]
    store = open_store(own_database, clock=lambda: now[0])
    try:
        who = await sandbox(store, "order")
        created = []
        for _ in range(3):
            task = await store.tasks.create(who, task_with_callback(), completed_response={"ok": 1})
            [delivery] = await store.deliveries.for_task(who, task.id)
            created.append(delivery.id)
            now[0] += timedelta(seconds=1)
        claimed = await store.deliveries.claim(worker="w", limit=2, lease_s=30)
        rest = await store.deliveries.claim(worker="w", limit=2, lease_s=30)
    finally:
        await store.close()
    assert [d.id for d in claimed] == created[:2]
    assert [d.id for d in rest] == created[2:]


async def test_a_sender_that_lost_its_lease_records_its_attempt_and_nothing_else(
    own_database: str,
) -> None:
    """Its lease expired and another sender took the delivery over: the late attempt is kept
    in the attempt log, but changes neither the delivery nor the task, and the trail gets one
    callback_delivered, from the sender that holds the delivery."""
    now = [datetime.now().astimezone()]
    store = open_store(own_database, clock=lambda: now[0])
    try:
        who = await sandbox(store, "late")
        task = await store.tasks.create(who, task_with_callback(), completed_response={"ok": 1})
        [late] = await store.deliveries.claim(worker="late", limit=10, lease_s=30)
        now[0] += timedelta(seconds=30 + LEASE_SWEEP_S + 1)
        [current] = await store.deliveries.claim(worker="current", limit=10, lease_s=30)
        assert current.id == late.id

        await store.deliveries.record("late", attempt(late.id, now[0]))
        [delivery] = await store.deliveries.for_task(who, task.id)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERING, 0)
        assert not (await store.tasks.get(who, task.id)).callback_completed

        await store.deliveries.record("current", attempt(current.id, now[0]))
        [delivery] = await store.deliveries.for_task(who, task.id)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
        assert (await store.tasks.get(who, task.id)).callback_completed
        events, _ = await store.events.events(
            who, EventFilter(task_id=task.id), after_id=None, limit=100
        )
        assert [e.action for e in events].count("callback_delivered") == 1
    finally:
        await store.close()


async def test_attempts_recorded_together_each_settle_their_own_delivery(
    own_database: str,
) -> None:
    """One record batch of three (the statement is sized in powers of two: one slot left
    empty): each delivery gets its own outcome."""
    store = open_store(own_database)
    try:
        who = await sandbox(store, "batch")
        created = [
            await store.tasks.create(who, task_with_callback(), completed_response={"ok": i})
            for i in range(3)
        ]
        claimed = await store.deliveries.claim(worker="w", limit=10, lease_s=30)
        assert len(claimed) == 3
        at = datetime.now().astimezone()
        retry_at = at + timedelta(seconds=5)
        outcomes = [
            attempt(claimed[0].id, at),
            attempt(
                claimed[1].id, at, status_code=500, next=Next.SEND_AGAIN, next_attempt_at=retry_at
            ),
            attempt(claimed[2].id, at, status_code=410, next=Next.FAILED, reason="gone"),
        ]
        await asyncio.gather(*(store.deliveries.record("w", o) for o in outcomes))
        by_id = {}
        for task in created:
            [delivery] = await store.deliveries.for_task(who, task.id)
            by_id[delivery.id] = delivery
        got = [by_id[c.id] for c in claimed]
        assert [d.status for d in got] == [
            DeliveryStatus.SUCCEEDED,
            DeliveryStatus.PENDING,
            DeliveryStatus.FAILED,
        ]
        assert [d.last_status_code for d in got] == [200, 500, 410]
        assert got[1].next_attempt_at == retry_at
        assert all(d.attempts == 1 for d in got)
    finally:
        await store.close()


async def test_a_batch_larger_than_one_statement_settles_every_delivery(
    own_database: str,
) -> None:
    """40 attempts recorded together: two settling statements (32 + 8), one transaction."""
    store = open_store(own_database)
    try:
        who = await sandbox(store, "wide")
        created = [
            await store.tasks.create(who, task_with_callback(), completed_response={"ok": i})
            for i in range(40)
        ]
        claimed = await store.deliveries.claim(worker="w", limit=100, lease_s=30)
        assert len(claimed) == 40
        at = datetime.now().astimezone()
        await asyncio.gather(*(store.deliveries.record("w", attempt(c.id, at)) for c in claimed))
        for task in created:
            [delivery] = await store.deliveries.for_task(who, task.id)
            assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
            assert (await store.tasks.get(who, task.id)).callback_completed
    finally:
        await store.close()
