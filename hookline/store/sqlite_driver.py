"""SQLAlchemy's aiosqlite driver with one thread hop per statement instead of four.

aiosqlite runs each call of the sqlite3 connection on its own thread, and
SQLAlchemy's adapter makes four such calls per statement: open a cursor,
execute, fetch the rows, close the cursor. Each call is a round trip through
a queue and `call_soon_threadsafe`, which costs far more than SQLite itself
does for hookline's small statements (about 70 µs each, measured with
`bench/cost.py`). The cursor here does all four in one call, so a statement
costs one round trip; everything else (connections, transactions, errors) is
SQLAlchemy's own aiosqlite dialect, unchanged.

The cursor uses two attributes of `aiosqlite.Connection` that are not public
API (`_execute`, the round trip, and `_conn`, the sqlite3 connection), as
SQLAlchemy's own adapter does (`_tx`); `usable()` checks for them, and without
them the stock driver is used.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Result = tuple[Any, list[Any] | None, int, int | None]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, *, many: bool) -> _Result:
    """On aiosqlite's thread: execute, fetch everything, close; one round trip."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose execute is a single call on the connection's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # Deliberately not the base __init__: it opens an aiosqlite cursor (a round trip).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        """Nothing to close: the sqlite3 cursor was closed in the same round trip."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._round_trip(operation, parameters, many=False))
        except Exception as error:  # noqa: BLE001 - translated, as SQLAlchemy does
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._round_trip(operation, seq_of_parameters, many=True))
        except Exception as error:  # noqa: BLE001 - translated, as SQLAlchemy does
            self._adapt_connection._handle_exception(error)

    async def _round_trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            connection = self._connection
            job = partial(_run, connection._conn, operation, parameters, many=many)
            description, rows, rowcount, lastrowid = await connection._execute(job)
        self._description = description
        self._rows = collections.deque(rows or ())
        self._rowcount = rowcount
        self._lastrowid = lastrowid


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to give `create_async_engine(..., module=...)` for SQLite."""

    def connect(self, *arg: Any, **kw: Any) -> Any:
        stock = super().connect(*arg, **kw)
        return _OneHopConnection(self, stock._connection)


def usable() -> bool:
    """Whether this aiosqlite has the two attributes the cursor relies on."""
    return callable(getattr(aiosqlite.Connection, "_execute", None)) and isinstance(
        getattr(aiosqlite.Connection, "_conn", None), property
    )


def dbapi() -> OneHopDbapi | None:
    """The one-hop DBAPI module, or None to let SQLAlchemy use its stock driver."""
    return OneHopDbapi(aiosqlite, sqlite3) if usable() else None
