"""Store fixtures: a database of a test's own, for tests whose claims span accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from hookline.models import ALL_SCOPES, Environment, NewTask, Principal
from hookline.schedule import Next
from hookline.store import Store
from hookline.store.sending import AttemptRecord
from tests.conftest import PG_URL, create_database, drop_database, new_task


@pytest.fixture
def own_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database for this test alone: claims take every due delivery in a database."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'retention.db'}"
        yield url
        return
    assert PG_URL is not None
    url = asyncio.run(create_database(PG_URL))
    yield url
    asyncio.run(drop_database(url, PG_URL))


def task_with_callback() -> NewTask:
    return new_task(callback_url="https://receiver.example/cb")


async def sandbox(store: Store, account: str) -> Principal:
    """Migrate `store` and answer a new account's test-environment principal (its tasks
    complete in their create, so each comes with a delivery)."""
    await store.migrate()
    key = await store.accounts.create_key(
        account=account, environment=Environment.TEST, scopes=ALL_SCOPES
    )
    who = await store.accounts.authenticate(key)
    assert who is not None
    return who


def attempt(
    delivery_id: str,
    at: datetime,
    *,
    status_code: int = 200,
    next: Next = Next.SUCCEEDED,
    next_attempt_at: datetime | None = None,
    reason: str | None = None,
) -> AttemptRecord:
    """One answered callback attempt, as the sender records it."""
    return AttemptRecord(
        delivery_id=delivery_id,
        at=at,
        status_code=status_code,
        error=None,
        duration_ms=1.0,
        body="ok" if status_code < 300 else "no",
        next=next,
        next_attempt_at=next_attempt_at,
        reason=reason,
    )
