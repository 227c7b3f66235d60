"""SQLite's hot write transactions, each run whole on one thread in one hop.

Through SQLAlchemy's asyncio layer every statement is a greenlet switch and a
round trip to aiosqlite's thread, and a transaction's BEGIN and COMMIT are two
more: a two-statement transaction cost 2.0 ms of CPU that way, and 0.5 ms run
whole through SQLAlchemy's synchronous engine on one thread (measured on the
development box; `bench/cost.py` counts a task's transactions and statements).
`SQLiteWriter.run` gives a transaction's whole body to one thread that owns a
synchronous connection: one round trip for the transaction, and no greenlets.

A body is the same `async def body(conn)` the asyncio engine runs (see
`Database.transact`), so the store's code is written once for both backends.
On the thread it gets a `ThreadConnection`, whose `execute` runs the statement
at once; the coroutine therefore never suspends, and `run` drives it with a
single `send`. A body that awaits anything else (a sleep, a lock, a network
call) is a bug and fails its transaction, which rolls back.

The thread opens and ends each transaction on the sqlite3 connection itself
(BEGIN IMMEDIATE, COMMIT or ROLLBACK), and takes its work from a queue of its
own: SQLAlchemy's transaction and the executor's futures cost more CPU than
SQLite's own work for a small transaction (about 0.4 ms of the 1 ms a one-task
transaction cost). A statement that still goes through SQLAlchemy starts
SQLAlchemy's transaction bookkeeping (no BEGIN: the engine emits none), which
the thread then ends through SQLAlchemy.

What runs on the thread must not touch the event loop: `after_commit` and
`on_rollback` hooks are collected there and run on the loop, in the caller,
once the transaction has ended; `signals.Handoff.take` is thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.store.sqlite_plans import Plans, is_prepared

T = TypeVar("T")
Body = Callable[[AsyncConnection], Coroutine[Any, Any, T]]


class Suspended(RuntimeError):
    """A transaction body awaited something other than its connection."""


class ThreadConnection:
    """The part of `AsyncConnection` that transaction bodies use, over a synchronous
    connection, on the writer's thread: statements run when called."""

    __slots__ = ("_driver", "_plans", "_sync")

    def __init__(self, sync: sa.Connection, driver: sqlite3.Connection, plans: Plans) -> None:
        self._sync = sync
        self._driver = driver
        self._plans = plans

    @property
    def info(self) -> dict[Any, Any]:
        return self._sync.info

    @property
    def dialect(self) -> sa.Dialect:
        return self._sync.dialect

    async def execute(self, statement: sa.Executable, parameters: Any = None) -> Any:
        return self._run(statement, parameters)

    async def scalars(self, statement: sa.Executable, parameters: Any = None) -> Any:
        return self._run(statement, parameters).scalars()

    async def scalar(self, statement: sa.Executable, parameters: Any = None) -> Any:
        return self._run(statement, parameters).scalar()

    def _run(self, statement: sa.Executable, parameters: Any) -> Any:
        if is_prepared(statement):
            answered = self._plans.run(self._driver, statement, parameters)
            if answered is not None:
                return answered
        return self._sync.execute(statement, parameters)


def finish(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends to its end; its result."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return cast(T, stop.value)
    coroutine.close()
    raise Suspended("a write transaction's body awaited something other than the database")


_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """On the loop: hand the thread's outcome to its caller, unless it went away."""
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class SQLiteWriter:
    """One thread, one synchronous connection to the SQLite file (`engine`), and the
    transactions given to `run`, one after another."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._plans = Plans(engine.dialect, hide_parameters=engine.hide_parameters)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: sa.Connection | None = None
        self._driver: sqlite3.Connection | None = None
        self._closed = threading.Event()
        self._turns: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def turn(self) -> asyncio.Lock:
        """Held by each of this process's write transactions, through this writer or the
        asyncio engine's: they queue here rather than wait for each other in SQLite's
        busy handler, which sleeps in steps of milliseconds."""
        loop = asyncio.get_running_loop()
        if self._turns is None or self._turns[0] is not loop:
            self._turns = (loop, asyncio.Lock())
        return self._turns[1]

    async def run(self, body: Body[T], info: dict[Any, Any]) -> T:
        """Run `body` in one transaction on the writer's thread, with `info` as its
        connection's `info` for the transaction's length; commits if it returns, rolls
        back if it raises. A caller cancelled meanwhile does not stop the transaction:
        it ends on the thread, and `info`'s hooks are the caller's to run or drop."""
        async with self.turn():
            return cast(T, await self._submit(lambda: self._transaction(body, info)))

    def _submit(self, job: Callable[[], Any]) -> asyncio.Future[Any]:
        if self._closed.is_set():
            raise RuntimeError("the SQLite writer is closed")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._serve, name="hookline-sqlite-writer", daemon=True
            )
            self._thread.start()
        self._jobs.put((job, loop, future))
        return future

    def _serve(self) -> None:
        """The thread: each job in turn, its outcome handed back to the job's loop."""
        while (item := self._jobs.get()) is not None:
            job, loop, future = item
            result: Any = None
            error: BaseException | None = None
            try:
                result = job()
            except BaseException as exc:  # noqa: BLE001 - the caller's to see
                error = exc
            with contextlib.suppress(RuntimeError):  # its loop closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, future, result, error)
            del item, job, future, result, error

    def _transaction(self, body: Body[T], info: dict[Any, Any]) -> T:
        conn = self._connection()
        driver = cast(sqlite3.Connection, self._driver)
        try:
            self._end(conn, driver, commit=False)  # what a failed ROLLBACK left open
            self._control(driver, driver.execute, "BEGIN IMMEDIATE")
            conn.info.update(info)
            try:
                result = finish(
                    body(cast(AsyncConnection, ThreadConnection(conn, driver, self._plans)))
                )
                self._end(conn, driver, commit=True)
            except BaseException:
                # A failed COMMIT leaves it open. The first error is the one to see; one
                # of ROLLBACK's own is met again (and raised) by the next transaction.
                with contextlib.suppress(sa.exc.DBAPIError):
                    self._end(conn, driver, commit=False)
                raise
            finally:
                for key in info:
                    conn.info.pop(key, None)
            return result
        except BaseException:
            if conn.invalidated or conn.closed:
                self._conn = self._driver = None
                conn.close()
            raise

    def _end(self, conn: sa.Connection, driver: sqlite3.Connection, *, commit: bool) -> None:
        """COMMIT or ROLLBACK, if a transaction is open: through SQLAlchemy if a statement
        started its bookkeeping (it ends SQLite's transaction too), else on the driver."""
        if conn.get_transaction() is not None:
            conn.commit() if commit else conn.rollback()
        if driver.in_transaction:
            self._control(driver, driver.commit if commit else driver.rollback, None)

    def _control(
        self, driver: sqlite3.Connection, call: Callable[..., Any], sql: str | None
    ) -> None:
        """BEGIN, COMMIT or ROLLBACK on the driver; its errors wrapped as SQLAlchemy's."""
        try:
            call() if sql is None else call(sql)
        except sqlite3.Error as exc:
            raise self._plans.wrapped(exc, sql or call.__name__.upper(), None) from exc

    def _connection(self) -> sa.Connection:
        if self._closed.is_set():
            raise RuntimeError("the SQLite writer is closed")
        if self._conn is None:
            self._conn = self.engine.connect()
            self._driver = cast(sqlite3.Connection, self._conn.connection.driver_connection)
        return self._conn

    async def close(self) -> None:
        """Close the connection (on its thread) and stop the thread."""
        if self._thread is None:  # never used (most CLI commands): no thread to stop
            self._closed.set()
            self.engine.dispose()
            return
        await self._submit(self._close)
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)

    def _close(self) -> None:
        self._closed.set()
        if self._conn is not None:
            self._conn.close()
            self._conn = self._driver = None
        self.engine.dispose()
