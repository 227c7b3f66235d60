from __future__ import annotations

from datetime import datetime, timedelta

from hookline.models import ALL_SCOPES, DeliveryStatus, Environment
from hookline.store import open_store
from hookline.store.sending import LEASE_SWEEP_S
from tests.store.conftest import task_with_callback


async def test_expired_delivery_lease_is_claimed_again(own_database: str) -> None:
    """A sender that dies mid-attempt leaves a leased delivery; after its lease it goes out again."""
    now = [datetime.now().astimezone()]
    store = open_store(own_database, clock=lambda: now[0])
    other = open_store(own_database, clock=lambda: now[0])
    try:
        await store.migrate()
        key = await store.accounts.create_key(
            account="leases", environment=Environment.TEST, scopes=ALL_SCOPES
        )
        who = await store.accounts.authenticate(key)
        assert who is not None
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
        await store.migrate()
        key = await store.accounts.create_key(
            account="order", environment=Environment.TEST, scopes=ALL_SCOPES
        )
        who = await store.accounts.authenticate(key)
        assert who is not None
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
