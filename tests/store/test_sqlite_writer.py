"""`Database.transact`: a whole write transaction in one call, on SQLite on the writer's thread.

The hooks and the rollback behave as `Database.write`'s do; a body that awaits
anything but its connection is refused; a caller cancelled mid-transaction still
gets its hooks run once the transaction ends on the thread; a locked database is
`Unavailable`, and the writer goes on afterwards.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.config import DatabaseSettings
from hookline.errors import StoreFailed, Unavailable
from hookline.store import Store, open_store
from hookline.store.base import after_commit, on_rollback
from hookline.store.sqlite_plans import prepared
from hookline.store.sqlite_writer import Suspended

_NOTES = sa.table("writer_notes", sa.column("id", sa.Integer), sa.column("body", sa.Text))
_LINKS = sa.table("writer_links", sa.column("id", sa.Integer), sa.column("note", sa.Integer))
# Run on the sqlite3 cursor (see sqlite_plans), past SQLAlchemy's transaction bookkeeping.
_PREPARED_NOTE = prepared(sa.insert(_NOTES).values(body=sa.bindparam("body")))
_PREPARED_LINK = prepared(sa.insert(_LINKS).values(note=sa.bindparam("note")))


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = open_store(
        f"sqlite+aiosqlite:///{tmp_path / 'writer.db'}", DatabaseSettings(busy_timeout_ms=200)
    )
    async with store.db.write() as conn:
        await conn.execute(sa.text("CREATE TABLE writer_notes (id INTEGER PRIMARY KEY, body TEXT)"))
        await conn.execute(
            sa.text(
                "CREATE TABLE writer_links (id INTEGER PRIMARY KEY, note INTEGER"
                " REFERENCES writer_notes (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    yield store
    await store.close()


async def _bodies(store: Store) -> list[str]:
    async with store.db.read() as conn:
        return list((await conn.scalars(sa.select(_NOTES.c.body).order_by(_NOTES.c.id))).all())


async def test_a_body_runs_whole_on_the_writer_thread(sqlite_store: Store) -> None:
    threads: list[str] = []
    calls: list[str] = []

    async def body(conn: AsyncConnection) -> int:
        threads.append(threading.current_thread().name)
        await conn.execute(sa.insert(_NOTES), [{"body": "a"}, {"body": "b"}])
        after_commit(conn, lambda: calls.append(threading.current_thread().name))
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(_NOTES)) or 0)

    assert await sqlite_store.db.transact(body) == 2
    assert threads[0].startswith("hookline-sqlite-writer")
    assert calls == [threading.current_thread().name]  # hooks run on the loop, after
    assert await _bodies(sqlite_store) == ["a", "b"]


async def test_a_body_that_raises_rolls_back_and_runs_the_rollback_hooks(
    sqlite_store: Store,
) -> None:
    calls: list[str] = []

    async def body(conn: AsyncConnection) -> None:
        await conn.execute(sa.insert(_NOTES), {"body": "gone"})
        after_commit(conn, lambda: calls.append("committed"))
        on_rollback(conn, lambda: calls.append("rolled back"))
        raise LookupError("no")

    with pytest.raises(LookupError):
        await sqlite_store.db.transact(body)
    assert calls == ["rolled back"]
    assert await _bodies(sqlite_store) == []


@pytest.mark.parametrize("through", ["plans", "plans and SQLAlchemy"])
async def test_what_a_failed_body_ran_on_either_path_is_rolled_back(
    sqlite_store: Store, through: str
) -> None:
    """The writer opens the transaction on the driver; statements on the cursor and
    statements through SQLAlchemy are in it alike, and go with it."""

    async def body(conn: AsyncConnection) -> None:
        await conn.execute(_PREPARED_NOTE, {"body": "on the cursor"})
        if through != "plans":
            await conn.execute(sa.insert(_NOTES), {"body": "through SQLAlchemy"})
        raise LookupError("no")

    with pytest.raises(LookupError):
        await sqlite_store.db.transact(body)
    assert await _bodies(sqlite_store) == []

    async def both(conn: AsyncConnection) -> None:
        await conn.execute(_PREPARED_NOTE, {"body": "a"})
        await conn.execute(sa.insert(_NOTES), {"body": "b"})
        await conn.execute(_PREPARED_NOTE, {"body": "c"})

    await sqlite_store.db.transact(both)
    await sqlite_store.db.transact(_insert("d"))
    assert await _bodies(sqlite_store) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("through", ["plans", "SQLAlchemy"])
async def test_a_commit_that_fails_rolls_back_and_the_writer_goes_on(
    sqlite_store: Store, through: str
) -> None:
    """A deferred foreign key fails at COMMIT, which leaves SQLite's transaction open:
    the caller gets a failure and its rollback hooks, and the next transaction starts
    clean."""
    calls: list[str] = []

    async def body(conn: AsyncConnection) -> None:
        await conn.execute(_PREPARED_NOTE, {"body": "dangling"})
        if through == "plans":
            await conn.execute(_PREPARED_LINK, {"note": 999})
        else:
            await conn.execute(sa.insert(_LINKS), {"note": 999})
        after_commit(conn, lambda: calls.append("committed"))
        on_rollback(conn, lambda: calls.append("rolled back"))

    with pytest.raises(StoreFailed):
        await sqlite_store.db.transact(body)
    assert calls == ["rolled back"]
    await sqlite_store.db.transact(_insert("after"))
    assert await _bodies(sqlite_store) == ["after"]


async def test_a_body_that_awaits_anything_else_is_refused_and_rolled_back(
    sqlite_store: Store,
) -> None:
    async def body(conn: AsyncConnection) -> None:
        await conn.execute(sa.insert(_NOTES), {"body": "gone"})
        await asyncio.sleep(0)

    with pytest.raises(Suspended):
        await sqlite_store.db.transact(body)
    assert await _bodies(sqlite_store) == []
    await sqlite_store.db.transact(_insert("after"))  # the writer goes on
    assert await _bodies(sqlite_store) == ["after"]


def _insert(text: str) -> Callable[[AsyncConnection], Coroutine[Any, Any, None]]:
    async def body(conn: AsyncConnection) -> None:
        await conn.execute(sa.insert(_NOTES), {"body": text})

    return body


async def test_a_cancelled_caller_still_gets_the_hooks_of_what_committed(
    sqlite_store: Store,
) -> None:
    """The transaction cannot be stopped on its thread: it commits, and its after-commit
    hooks run then (a handoff's slot must not be lost, nor given twice)."""
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []
    ended = asyncio.Event()

    async def body(conn: AsyncConnection) -> None:
        started.set()
        release.wait(5)
        await conn.execute(sa.insert(_NOTES), {"body": "kept"})
        after_commit(conn, lambda: calls.append("committed"))
        after_commit(conn, ended.set)
        on_rollback(conn, lambda: calls.append("rolled back"))

    caller = asyncio.create_task(sqlite_store.db.transact(body))
    await asyncio.to_thread(started.wait, 5)
    caller.cancel()
    await asyncio.sleep(0.05)
    assert calls == []
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    async with asyncio.timeout(5):
        await ended.wait()
    assert calls == ["committed"]
    assert await _bodies(sqlite_store) == ["kept"]


async def test_write_and_transact_take_turns(sqlite_store: Store) -> None:
    """Both kinds of write transaction queue in-process: with a 200 ms busy timeout, none
    waits for SQLite's lock however they overlap."""

    async def through_write(i: int) -> None:
        async with sqlite_store.db.write() as conn:
            await conn.execute(sa.insert(_NOTES), {"body": f"w{i}"})
            await asyncio.sleep(0.01)  # holds the write lock across an await

    await asyncio.gather(
        *(through_write(i) for i in range(20)),
        *(sqlite_store.db.transact(_insert(f"t{i}")) for i in range(20)),
    )
    assert len(await _bodies(sqlite_store)) == 40


async def test_a_locked_database_is_unavailable_and_the_writer_recovers(
    sqlite_store: Store, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "writer.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Unavailable) as refused:
            await sqlite_store.db.transact(_insert("blocked"))
        assert "database is locked" in refused.value.reason
    finally:
        other.execute("ROLLBACK")
        other.close()
    await sqlite_store.db.transact(_insert("after"))
    assert await _bodies(sqlite_store) == ["after"]


async def test_the_same_body_runs_on_either_backend(store: Store) -> None:
    """On SQLite on the writer's thread, on PostgreSQL through `write`."""
    calls: list[str] = []

    async def body(conn: AsyncConnection) -> int:
        after_commit(conn, lambda: calls.append("committed"))
        return int(await conn.scalar(sa.select(sa.literal(41) + 1)) or 0)

    assert await store.db.transact(body) == 42
    assert calls == ["committed"]


async def test_a_store_that_never_wrote_closes_without_starting_the_thread(
    tmp_path: Path,
) -> None:
    before = set(threading.enumerate())
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    await store.close()
    assert not _writer_threads(set(threading.enumerate()) - before)


async def test_the_thread_ends_when_the_store_closes(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'used.db'}")
    async with store.db.write() as conn:
        await conn.execute(sa.text("CREATE TABLE writer_notes (id INTEGER PRIMARY KEY, body TEXT)"))
    await store.db.transact(_insert("x"))
    writers = _writer_threads(set(threading.enumerate()) - before)
    assert writers
    await store.close()
    assert not any(t.is_alive() for t in writers)


def _writer_threads(threads: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threads if t.name.startswith("hookline-sqlite-writer")]
