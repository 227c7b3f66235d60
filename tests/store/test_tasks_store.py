from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hookline.errors import DuplicateUniqueId, IllegalTransition, NotFound, StoreFailed
from hookline.models import TaskFilter, TaskStatus
from hookline.store import open_store
from tests.conftest import Account, new_task


async def test_timestamps_come_back_as_utc(database_url: str, account: Account) -> None:
    """A time given with an offset is stored as the same instant and read back in UTC."""
    plus_two = timezone(timedelta(hours=2))
    when = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    store = open_store(database_url, clock=lambda: when)
    try:
        created = await store.tasks.create(account.live, new_task())
        got = await store.tasks.get(account.live, created.id)
    finally:
        await store.close()
    assert got.created_at == when
    assert got.created_at.tzinfo == UTC
    assert got.created_at.hour == 10


async def test_concurrent_creates_with_one_unique_id_store_one_task(
    database_url: str, account: Account
) -> None:
    """Fifty concurrent creates with one unique_id: one task, forty-nine duplicates."""
    store = open_store(database_url)
    try:
        results = await asyncio.gather(
            *(store.tasks.create(account.live, new_task(unique_id="same")) for _ in range(50)),
            return_exceptions=True,
        )
        page = await store.tasks.page(account.live, TaskFilter(unique_ids=("same",)), limit=100)
    finally:
        await store.close()
    created = [r for r in results if not isinstance(r, BaseException)]
    duplicates = [r for r in results if isinstance(r, DuplicateUniqueId)]
    assert len(created) == 1, [repr(r)[:300] for r in results[:3]]
    assert len(duplicates) == 49
    assert {d.task_id for d in duplicates} == {created[0].id}
    assert page.total == 1


async def test_cancel_is_guarded_by_status(database_url: str, account: Account) -> None:
    """Only a pending task can be canceled; a second cancel changes nothing."""
    store = open_store(database_url)
    try:
        task = await store.tasks.create(account.live, new_task())
        canceled = await store.operations.cancel(account.live, task.id, clear_unique_id=False)
        with pytest.raises(IllegalTransition):
            await store.operations.cancel(account.live, task.id, clear_unique_id=False)
        again = await store.tasks.get(account.live, task.id)
    finally:
        await store.close()
    assert canceled.status is TaskStatus.CANCELED
    assert again.updated_at == canceled.updated_at


async def test_tasks_are_scoped_to_account_and_environment(
    database_url: str, account: Account
) -> None:
    """The test environment cannot read the live environment's task."""
    store = open_store(database_url)
    try:
        task = await store.tasks.create(account.live, new_task())
        with pytest.raises(NotFound):
            await store.tasks.get(account.test, task.id)
    finally:
        await store.close()


async def test_a_row_that_breaks_a_shared_batch_fails_alone(
    database_url: str, account: Account
) -> None:
    """Creates sharing a transaction with a failing row are still stored; only that row fails."""
    import dataclasses

    ghost = dataclasses.replace(account.live, account_id=987_654_321)  # violates the foreign key
    store = open_store(database_url)
    try:
        results = await asyncio.gather(
            store.tasks.create(account.live, new_task(unique_id="before")),
            store.tasks.create(ghost, new_task()),
            store.tasks.create(account.live, new_task(unique_id="after")),
            return_exceptions=True,
        )
        page = await store.tasks.page(
            account.live, TaskFilter(unique_ids=("before", "after")), limit=10
        )
    finally:
        await store.close()
    assert isinstance(results[1], StoreFailed)
    assert results[1].detail.startswith("IntegrityError: ")
    assert page.total == 2


async def test_first_callback_waits_for_the_schedules_first_delay(
    database_url: str, account: Account
) -> None:
    """A new delivery is due callbacks.schedule_s[0] after the completion that made it."""
    when = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    store = open_store(database_url, clock=lambda: when, first_callback_delay_s=30)
    try:
        task = await store.tasks.create(
            account.test,
            new_task(callback_url="https://receiver.example/cb"),
            completed_response={"ok": True},
        )
        [delivery] = await store.deliveries.for_task(account.test, task.id)
    finally:
        await store.close()
    assert delivery.next_attempt_at == when + timedelta(seconds=30)
    assert delivery.status.value == "pending"
