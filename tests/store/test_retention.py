from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hookline.models import Principal
from hookline.schedule import Next
from hookline.store import Store, open_store
from hookline.store.sending import AttemptRecord
from tests.store.conftest import sandbox, task_with_callback


async def delivered(store: Store, who: Principal, at: datetime) -> str:
    """A task whose callback was delivered at `at`; its delivery id."""
    task = await store.tasks.create(who, task_with_callback(), completed_response={"ok": 1})
    [delivery] = await store.deliveries.for_task(who, task.id)
    await store.deliveries.claim(worker="t", limit=1000, lease_s=30)
    await store.deliveries.record(
        "t",
        AttemptRecord(
            delivery_id=delivery.id,
            at=at,
            status_code=200,
            error=None,
            duration_ms=1.0,
            body="ok",
            next=Next.SUCCEEDED,
            next_attempt_at=None,
        ),
    )
    return task.id


async def test_old_attempts_are_pruned_and_recent_ones_kept(own_database: str) -> None:
    """Pruning deletes the attempt logs of deliveries finished before the cutoff, only those."""
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    old_store = open_store(own_database, clock=lambda: long_ago)
    store = open_store(own_database)
    try:
        who = await sandbox(store, "retention")
        old = await delivered(old_store, who, long_ago)
        recent = await delivered(store, who, store.db.clock())
        pruned = await store.deliveries.prune_attempts(older_than=long_ago + timedelta(days=1))
        [old_delivery] = await store.deliveries.for_task(who, old)
        [recent_delivery] = await store.deliveries.for_task(who, recent)
    finally:
        await old_store.close()
        await store.close()
    assert pruned == 1
    assert old_delivery.attempt_log == ()
    assert old_delivery.status.value == "succeeded"  # the delivery itself stays
    assert [a.status_code for a in recent_delivery.attempt_log] == [200]
