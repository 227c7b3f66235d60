from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from hookline.config import DatabaseSettings
from hookline.store import open_store
from tests.conftest import Account, new_task
from tests.store.conftest import task_with_callback


async def test_pgbouncer_mode_polls_and_works(
    database_url: str, backend: str, account: Account
) -> None:
    """With pgbouncer set, LISTEN is off and the store still creates and reads tasks."""
    if backend != "postgresql":
        pytest.skip("PgBouncer fronts PostgreSQL only")
    kind = f"bouncer-{uuid.uuid4().hex[:8]}"  # claims span every account of the database
    store = open_store(database_url, DatabaseSettings(pgbouncer=True))
    try:
        assert store.db.engines.listen is False
        async with store.listen():
            task = await store.tasks.create(
                account.live,
                new_task(kind, params={"n": 1}, unique_id="bouncer"),
            )
            claimed = await store.work.claim(worker="w", lease_s=5, limit=5, types=[kind])
        assert task.id in [t.id for t in claimed]
        assert (await store.tasks.get(account.live, task.id)).worker == "w"
    finally:
        await store.close()


async def test_notify_wakes_other_processes_on_their_channel(
    database_url: str, backend: str, account: Account
) -> None:
    """A new task wakes listening dispatchers, a due callback listening senders; a process
    that dispatches and sends itself keeps its work to itself."""
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    api = open_store(database_url)
    worker = open_store(database_url)
    try:
        async with worker.listen():
            await api.tasks.create(account.live, new_task(f"notify-{uuid.uuid4().hex[:8]}"))
            assert await worker.signals.wait_for_work(5)
            assert not await worker.signals.wait_for_callbacks(0.2)

            await api.tasks.create(account.test, task_with_callback(), completed_response={})
            assert await worker.signals.wait_for_callbacks(5)

            api.signals.dispatching = api.signals.sending = True
            await api.tasks.create(account.live, new_task(f"notify-{uuid.uuid4().hex[:8]}"))
            await api.tasks.create(account.test, task_with_callback(), completed_response={})
            woken = await asyncio.gather(
                worker.signals.wait_for_work(0.5), worker.signals.wait_for_callbacks(0.5)
            )
            assert woken == [False, False]
    finally:
        await api.close()
        await worker.close()


async def test_listening_survives_the_loss_of_its_connection(
    database_url: str, backend: str, account: Account
) -> None:
    """When the LISTEN connection is killed (a restart, a proxy), the worker listens again,
    wakes its loops once for what it may have missed, and hears the next task."""
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    api = open_store(database_url)
    worker = open_store(database_url)
    try:
        async with worker.listen():
            await api.tasks.create(account.live, new_task(f"notify-{uuid.uuid4().hex[:8]}"))
            assert await worker.signals.wait_for_work(5)
            async with api.db.write() as conn:
                killed = await conn.scalar(
                    sa.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                    )
                )
            assert killed == 1
            # Reconnected: the missed-notification wake-up, then a real one.
            assert await worker.signals.wait_for_work(10)
            assert await worker.signals.wait_for_callbacks(1)
            await api.tasks.create(account.live, new_task(f"notify-{uuid.uuid4().hex[:8]}"))
            assert await worker.signals.wait_for_work(5)
    finally:
        await api.close()
        await worker.close()
