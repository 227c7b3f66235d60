from __future__ import annotations

import uuid

import pytest

from hookline.config import DatabaseSettings
from hookline.models import NewTask
from hookline.store import open_store
from tests.conftest import Account


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
        async with store.listen_for_work(lambda: None):
            task = await store.tasks.create(
                account.live,
                NewTask(
                    type=kind,
                    instruction=None,
                    params={"n": 1},
                    metadata={},
                    tags=None,
                    unique_id="bouncer",
                    project=None,
                    batch=None,
                    callback_url=None,
                    priority=None,
                ),
            )
            claimed = await store.work.claim(owner="w", lease_s=5, limit=5, types=[kind])
        assert task.id in [t.id for t in claimed]
        assert (await store.tasks.get(account.live, task.id)).lease_owner == "w"
    finally:
        await store.close()
