"""Everything that differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hookline.config import DatabaseSettings, database_url
from hookline.store import sqlite_driver
from hookline.store.sqlite_writer import SQLiteWriter


@dataclass(frozen=True, slots=True)
class Engines:
    """`write` takes the write lock up front on SQLite; `read` never does.

    On PostgreSQL both are the same engine.
    """

    write: AsyncEngine
    read: AsyncEngine
    dialect: str
    listen: bool = True
    """Whether LISTEN can be used (not through PgBouncer in transaction mode)."""
    writer: SQLiteWriter | None = None
    """SQLite: the thread that runs `Database.transact`'s transactions whole."""

    async def dispose(self) -> None:
        if self.writer is not None:
            await self.writer.close()
        await self.write.dispose()
        if self.read is not self.write:
            await self.read.dispose()


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# orjson both ways: JSON read back never holds what the HTTP edge cannot write
# (PostgreSQL turns 1e20 into an integer wider than 64 bits; orjson reads it as a float).
_JSON = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
# SQLAlchemy's error messages would quote bound parameters (tenant data) otherwise.
_ENGINE = {**_JSON, "hide_parameters": True}


def create_engines(url: str, settings: DatabaseSettings) -> Engines:
    """Engines for a database URL, configured for its backend."""
    url = database_url(url)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        write = _sqlite_engine(url, settings, immediate=True)
        read = _sqlite_engine(url, settings, immediate=False)
        return Engines(
            write=write, read=read, dialect="sqlite", writer=_sqlite_writer(parsed, settings)
        )
    connect_args: dict[str, Any] = {}
    if settings.pgbouncer:
        # Transaction pooling hands each transaction any server connection, so
        # prepared statements cannot be cached per connection.
        connect_args = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
    engine = create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=settings.pre_ping,
        connect_args=connect_args,
        **_ENGINE,
    )
    return Engines(write=engine, read=engine, dialect="postgresql", listen=not settings.pgbouncer)


def _sqlite_engine(url: str, settings: DatabaseSettings, *, immediate: bool) -> AsyncEngine:
    # One writer at a time: a small write pool queues writers in-process instead
    # of making them spin on SQLITE_BUSY; readers run concurrently under WAL.
    # One thread hop per statement instead of four (see sqlite_driver).
    driver = sqlite_driver.dbapi()
    engine = create_async_engine(
        url,
        pool_size=1 if immediate else settings.pool_size,
        max_overflow=0 if immediate else settings.max_overflow,
        connect_args={"timeout": settings.busy_timeout_ms / 1000},
        **({"module": driver} if driver is not None else {}),
        **_ENGINE,
    )

    # A deferred transaction that reads then writes can fail with SQLITE_BUSY at once
    # under WAL; writers take the lock up front.
    _configure_sqlite(
        engine.sync_engine, settings, begin="BEGIN IMMEDIATE" if immediate else "BEGIN"
    )
    return engine


def _sqlite_writer(url: sa.URL, settings: DatabaseSettings) -> SQLiteWriter:
    """The synchronous engine (Python's sqlite3) of `SQLiteWriter`'s one connection."""
    engine = sa.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        pool_size=1,
        max_overflow=0,
        connect_args={"timeout": settings.busy_timeout_ms / 1000, "check_same_thread": True},
        **_ENGINE,
    )
    # No BEGIN from SQLAlchemy: the writer opens each transaction on the driver itself.
    _configure_sqlite(engine, settings, begin=None)
    return SQLiteWriter(engine)


def _configure_sqlite(engine: sa.Engine, settings: DatabaseSettings, *, begin: str | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver opens no transactions of its own: BEGIN comes from the listener below
        # (see "Enabling Non-Legacy SQLite Transactional Modes" in SQLAlchemy's sqlite
        # dialect docs) or, on the writer's engine, from the writer itself.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if begin is None:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


def insert(table: sa.Table, dialect: str) -> Any:
    """An INSERT that supports `on_conflict_do_nothing` on this backend."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def json_array_overlaps(column: Any, values: Sequence[str], dialect: str) -> Any:
    """True where the JSON array in `column` contains any of `values`."""
    if dialect == "postgresql":
        return column.op("?|")(sa.cast(sa.literal(list(values)), postgresql.ARRAY(sa.Text)))
    element = sa.func.json_each(column).table_valued("value").alias("tag")
    return sa.exists(sa.select(1).select_from(element).where(element.c.value.in_(values)))


def locked(query: sa.Select[Any], dialect: str) -> sa.Select[Any]:
    """`query` locking its rows until the transaction ends (SQLite's writer already holds
    the database)."""
    return query.with_for_update() if dialect == "postgresql" else query


def per_value(
    dialect: str,
    column: sa.ColumnElement[Any],
    values: Sequence[str],
    select_for: Callable[[sa.ColumnElement[bool]], sa.Select[Any]],
) -> tuple[sa.FromClause, sa.FromClause]:
    """`select_for(column == value)` for each of `values`, as one `picked` subquery; and the
    FROM clause to select `picked`'s columns from.

    On PostgreSQL a LATERAL join over the values: one index range per value, each
    locked with SKIP LOCKED by `select_for` (rows taken from a range but cut by an
    outer LIMIT stay locked only until the transaction commits). SQLite has no row
    locks (its one writer serializes) and no LATERAL: a UNION ALL.
    """
    if dialect == "postgresql":
        names = (
            sa.func.unnest(sa.cast(list(values), postgresql.ARRAY(sa.String())))
            .table_valued("name")
            .render_derived("wanted")
        )
        picked = select_for(column == names.c.name).lateral("picked")
        return picked, names.join(picked, sa.true())
    union = sa.union_all(*(sa.select(select_for(column == v).subquery()) for v in values))
    merged = union.subquery("picked")
    return merged, merged


def take_migration_lock(sync_conn: Any) -> None:
    """Serialize concurrent `migrate` runs (SQLite's BEGIN IMMEDIATE already does)."""
    if sync_conn.dialect.name == "postgresql":
        sync_conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7262611891)")


WORK_CHANNEL = "hookline_work"
"""NOTIFY channel: tasks became claimable."""
CALLBACKS_CHANNEL = "hookline_callbacks"
"""NOTIFY channel: deliveries became due."""


async def notify(conn: Any, channel: str) -> None:
    """Tell other processes that something is waiting on `channel` (PostgreSQL only; a hint)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text(f"NOTIFY {channel}"))
