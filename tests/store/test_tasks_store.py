from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hookline.errors import DuplicateUniqueId, IllegalTransition, NotFound, StoreFailed
from hookline.models import TaskFilter, TaskStatus
from hookline.store import open_store
from hookline.store.tables import metadata
from hookline.store.tasks import _HOLDERS
from tests.conftest import Account, AccountFactory, new_task


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


async def test_duplicates_in_one_batch_name_the_holder_of_their_own_scope(
    database_url: str, account_factory: AccountFactory
) -> None:
    """One unique_id taken in two accounts' live and test environments: concurrent
    duplicates of all four (one shared batch) each name the task of its own scope."""
    first, second = await account_factory(), await account_factory()
    scopes = [first.live, first.test, second.live, second.test]
    store = open_store(database_url)
    try:
        holders = [await store.tasks.create(p, new_task(unique_id="shared")) for p in scopes]
        results = await asyncio.gather(
            *(store.tasks.create(p, new_task(unique_id="shared")) for p in scopes * 3),
            return_exceptions=True,
        )
    finally:
        await store.close()
    assert all(isinstance(r, DuplicateUniqueId) for r in results), results
    named = [r.task_id for r in results if isinstance(r, DuplicateUniqueId)]
    assert named == [h.id for h in holders] * 3


def test_the_holders_query_reads_the_unique_index_on_sqlite(tmp_path: Path) -> None:
    """A duplicate's holder is found through the unique index, not a scan of every task."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    metadata.create_all(engine)
    plan: list[Any] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        plan.extend(cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall())

    with engine.connect() as conn:
        conn.execute(_HOLDERS, {"account_id": 1, "environment": "live", "ids": ["a", "b"]})
    engine.dispose()
    assert any("USING INDEX uq_tasks_unique_id" in row[-1] for row in plan), plan


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
