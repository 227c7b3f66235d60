"""The database handle every store module shares: engines, clock, error translation."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import Misconfigured, StoreFailed, Unavailable
from hookline.ids import ObjectIds
from hookline.store.dialect import CALLBACKS_CHANNEL, WORK_CHANNEL, Engines, notify
from hookline.store.signals import Signals

T = TypeVar("T")


def utc_now() -> datetime:
    """Now, in UTC, to the millisecond: the precision the API shows, so that a time read
    from an answer can be used as an inclusive filter bound and match exactly."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class Database:
    engines: Engines
    clock: Callable[[], datetime] = utc_now
    random_bytes: Callable[[int], bytes] = os.urandom
    signals: Signals = field(default_factory=Signals)
    first_callback_delay_s: float = 0.0
    """callbacks.schedule_s[0]: the delay before a new delivery's first attempt."""
    ids: ObjectIds = field(init=False)
    """New object ids (tasks, deliveries, files), in the order this process makes them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", ObjectIds(self.random_bytes))

    @property
    def dialect(self) -> str:
        return self.engines.dialect

    async def announce_work(self, conn: AsyncConnection) -> None:
        """In the transaction that made tasks claimable: wake this process's dispatcher
        once it commits, and NOTIFY the others unless this process dispatches itself."""
        after_commit(conn, self.signals.work_available)
        if not self.signals.dispatching:
            await notify(conn, WORK_CHANNEL)

    async def announce_callbacks(self, conn: AsyncConnection) -> None:
        """In the transaction that made deliveries due: wake this process's sender once
        it commits, and NOTIFY the others unless this process sends itself."""
        after_commit(conn, self.signals.callbacks_due)
        if not self.signals.sending:
            await notify(conn, CALLBACKS_CHANNEL)

    async def transact(self, body: Callable[[AsyncConnection], Coroutine[Any, Any, T]]) -> T:
        """`body(conn)` in one write transaction, as `write` runs it; its result.

        On SQLite the whole body runs on the writer's thread in one round trip (see
        `sqlite_writer`), so it may await only its connection's `execute`, `scalars`
        and `scalar`, and the store functions that do no more. The pipeline's hot
        transactions (create, claim, settle, callback claim and record) are written
        this way.
        """
        writer = self.engines.writer
        if writer is None:
            async with self.write() as conn:
                return await body(conn)
        hooks: dict[Callable[[], None], None] = {}
        undo: dict[Callable[[], None], None] = {}
        running = asyncio.ensure_future(
            writer.run(body, {_AFTER_COMMIT: hooks, _ON_ROLLBACK: undo})
        )
        try:
            async with translated_errors(writer.engine.url, hide_failures=True):
                result = await asyncio.shield(running)
        except asyncio.CancelledError:
            if running.done():
                _ended(hooks, undo, running)
            else:  # the transaction goes on to its end on the thread; so do its hooks
                running.add_done_callback(partial(_ended, hooks, undo))
            raise
        except BaseException:
            _ended(hooks, undo, None)
            raise
        _ended(hooks, undo, running)
        return result

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction; commits on success, rolls back on error.

        Functions given to `after_commit` run once it has committed: a loop woken
        earlier would look for rows it cannot see yet. Functions given to
        `on_rollback` run if it does not commit.
        """
        hooks: dict[Callable[[], None], None] = {}
        undo: dict[Callable[[], None], None] = {}
        writer = self.engines.writer
        try:
            async with (
                writer.turn() if writer is not None else nullcontext(),
                translated_errors(self.engines.write.url, hide_failures=True),
                self.engines.write.begin() as conn,
            ):
                conn.info[_AFTER_COMMIT] = hooks
                conn.info[_ON_ROLLBACK] = undo
                try:
                    yield conn
                finally:
                    del conn.info[_AFTER_COMMIT], conn.info[_ON_ROLLBACK]
        except BaseException:
            for hook in undo:
                hook()
            raise
        for hook in hooks:
            hook()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """One read-only transaction (consistent snapshot on both backends)."""
        async with (
            translated_errors(self.engines.read.url, hide_failures=True),
            self.engines.read.begin() as conn,
        ):
            yield conn


def _ended(
    hooks: dict[Callable[[], None], None],
    undo: dict[Callable[[], None], None],
    transaction: asyncio.Future[Any] | None,
) -> None:
    """Run the hooks of a transaction that ended: `hooks` if it committed, else `undo`."""
    committed = (
        transaction is not None and not transaction.cancelled() and transaction.exception() is None
    )
    for hook in hooks if committed else undo:
        hook()


_AFTER_COMMIT = "hookline.after_commit"
_ON_ROLLBACK = "hookline.on_rollback"


def after_commit(conn: AsyncConnection, hook: Callable[[], None]) -> None:
    """Run `hook` (once, however often given) after the `Database.write` transaction
    of `conn` commits; never if it rolls back."""
    conn.info[_AFTER_COMMIT][hook] = None


def on_rollback(conn: AsyncConnection, hook: Callable[[], None]) -> None:
    """Run `hook` (once) if the `Database.write` transaction of `conn` does not commit."""
    conn.info[_ON_ROLLBACK][hook] = None


@asynccontextmanager
async def translated_errors(
    url: sa.URL | None = None, *, hide_failures: bool = False
) -> AsyncIterator[None]:
    """Turn the driver's "not now" into `Unavailable` and its "never, as configured" into
    `Misconfigured`, each with a reason naming `url`'s database.

    With `hide_failures`, any other failed statement becomes `StoreFailed`,
    described by error classes and SQLSTATE only; without, it stays.
    """
    try:
        yield
    except (sa.exc.DBAPIError, sa.exc.TimeoutError, OSError) as exc:
        refused = misconfiguration(exc, url)
        if refused is not None:
            raise Misconfigured(reason=refused) from exc
        if (
            isinstance(exc, sa.exc.DBAPIError)
            and not isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
            and not (exc.connection_invalidated or server_unavailable(exc))
        ):
            if not hide_failures:
                raise
            # Not `from exc`: the driver's message quotes the statement's parameters
            # ("invalid input for query argument $4: 184467…"), and tracebacks print
            # chained exceptions. The parameters are tenant data; they are never logged.
            raise StoreFailed(describe(exc)) from None
        # Connection lost, database locked past the busy timeout, server down,
        # or no pooled connection free within the pool timeout.
        raise Unavailable(reason=unavailable_reason(exc, url)) from exc
    except sa.exc.StatementError as exc:
        if not hide_failures:
            raise
        raise StoreFailed(describe(exc)) from None


def describe(exc: sa.exc.StatementError) -> str:
    """`DBAPIError: CharacterNotInRepertoireError (SQLSTATE 22021)`: no message, no parameters.

    SQLite's errors give their result code name instead (`SQLITE_CONSTRAINT_FOREIGNKEY`).
    """
    orig = exc.orig
    driver = orig.__cause__ if orig is not None and orig.__cause__ is not None else orig
    detail = f"{type(exc).__name__}: {type(driver).__name__}"
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str):
        return f"{detail} (SQLSTATE {sqlstate})"
    sqlite_code = getattr(orig, "sqlite_errorname", None)
    return f"{detail} ({sqlite_code})" if isinstance(sqlite_code, str) else detail


# PostgreSQL SQLSTATE classes that mean "not now" rather than "wrong": connection
# exceptions (08), insufficient resources such as too many connections (53), and
# operator intervention: shutting down, starting up, crashed (57P01-57P05).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def server_unavailable(exc: sa.exc.DBAPIError) -> bool:
    """The server refused for the moment (e.g. "the database system is shutting down")."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(code, str) and code.startswith(_UNAVAILABLE_SQLSTATES)


def _driver_error(exc: BaseException) -> BaseException:
    return exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _server(url: sa.URL | None) -> str:
    if url is None or not url.host:
        return "the server"
    return f"{url.host}:{url.port or 5432}"


# SQLSTATEs that retrying cannot cure: no such database (3D000), authorization
# refused (28000: no such role, or pg_hba.conf has no entry), wrong password (28P01).
_SQLITE_REFUSALS = (
    "unable to open database file",
    "attempt to write a readonly database",
    "file is not a database",
)


def misconfiguration(exc: BaseException, url: sa.URL | None) -> str | None:
    """What to change, if `exc` says the database as configured can never be used."""
    orig = _driver_error(exc)
    words = _first_line(orig)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    where = _server(url)
    flags = f"-h {url.host} -p {url.port or 5432} " if url is not None and url.host else ""
    if code == "3D000":
        name = url.database if url is not None and url.database else "NAME"
        user = f"-U {url.username} " if url is not None and url.username else ""
        return f"{words} on {where}; create it with `createdb {flags}{user}{name}`"
    if code == "28000" and "role" in words and url is not None and url.username:
        return (
            f"{words} on {where}; create it with `createuser {flags}--login {url.username}` "
            "(as a superuser), or fix the user in database_url"
        )
    if code in ("28000", "28P01"):
        return f"{words} ({where}); fix the user or password in database_url"
    if isinstance(exc, sa.exc.DBAPIError) and words.startswith(_SQLITE_REFUSALS):
        path = url.database if url is not None and url.database else "the database file"
        return f"cannot use the SQLite database {os.path.abspath(path)}: {words}"
    return None


def unavailable_reason(exc: BaseException, url: sa.URL | None) -> str:
    """Why the database cannot be used for now, in a few words."""
    orig = _driver_error(exc)
    if isinstance(orig, ConnectionRefusedError):
        return f"connection refused by {_server(url)}"
    if isinstance(orig, socket.gaierror):
        host = url.host if url is not None and url.host else "the host"
        return f"cannot resolve {host}: {_first_line(orig)}"
    if isinstance(orig, TimeoutError | sa.exc.TimeoutError):
        return f"timed out ({_first_line(orig) if str(orig) else _server(url)})"
    return f"{type(orig).__name__}: {_first_line(orig)}"
