"""Store fixtures: a database of a test's own, for tests whose claims span accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookline.models import NewTask
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
