"""Which database errors mean "try again later" (503) rather than a bug."""

from __future__ import annotations

import socket
import traceback

import pytest
import sqlalchemy as sa

from hookline.errors import Misconfigured, StoreFailed, Unavailable
from hookline.store.base import translated_errors


class DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter raises: the server's SQLSTATE as `sqlstate`."""

    def __init__(self, sqlstate: str | None, message: str | None = None) -> None:
        super().__init__(message or f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def dbapi_error(sqlstate: str | None) -> sa.exc.DBAPIError:
    return sa.exc.DBAPIError("SELECT 1", None, DriverError(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    [
        pytest.param("57P03", id="cannot-connect-now-shutting-down"),
        pytest.param("57P01", id="admin-shutdown"),
        pytest.param("53300", id="too-many-connections"),
        pytest.param("08006", id="connection-failure"),
    ],
)
async def test_server_refusing_for_now_is_unavailable(sqlstate: str) -> None:
    with pytest.raises(Unavailable):
        async with translated_errors():
            raise dbapi_error(sqlstate)


@pytest.mark.parametrize(
    "sqlstate",
    [
        pytest.param("23505", id="unique-violation"),
        pytest.param("42P01", id="undefined-table"),
        pytest.param("57014", id="query-canceled"),
        pytest.param(None, id="no-sqlstate"),
    ],
)
async def test_other_database_errors_stay_errors(sqlstate: str | None) -> None:
    with pytest.raises(sa.exc.DBAPIError):
        async with translated_errors():
            raise dbapi_error(sqlstate)


class SqliteError(Exception):
    """What sqlite3 raises: only a message."""


PG = sa.make_url("postgresql+asyncpg://app@db.internal:5433/orders")


@pytest.mark.parametrize(
    ("error", "says"),
    [
        pytest.param(
            sa.exc.DBAPIError("", None, DriverError("3D000")),
            "on db.internal:5433; create it with `createdb -h db.internal -p 5433 -U app orders`",
            id="no-such-database",
        ),
        pytest.param(
            sa.exc.DBAPIError("", None, DriverError("28000", 'role "app" does not exist')),
            "create it with `createuser -h db.internal -p 5433 --login app`",
            id="no-such-role",
        ),
        pytest.param(
            sa.exc.DBAPIError("", None, DriverError("28000")),
            "(db.internal:5433); fix the user or password in database_url",
            id="pg-hba-refused",
        ),
        pytest.param(
            sa.exc.DBAPIError("", None, DriverError("28P01")),
            "fix the user or password in database_url",
            id="wrong-password",
        ),
    ],
)
async def test_refusals_that_retrying_cannot_cure_are_misconfigured(
    error: sa.exc.DBAPIError, says: str
) -> None:
    """A missing database or role, or refused credentials, raise Misconfigured naming the fix."""
    with pytest.raises(Misconfigured) as raised:
        async with translated_errors(PG):
            raise error
    assert says in raised.value.reason
    assert raised.value.message == "The database is unavailable."


@pytest.mark.parametrize(
    "words",
    [
        pytest.param("unable to open database file", id="cannot-open"),
        pytest.param("attempt to write a readonly database", id="read-only"),
        pytest.param("file is not a database", id="not-sqlite"),
    ],
)
async def test_sqlite_files_that_cannot_be_used_are_misconfigured(words: str) -> None:
    """A SQLite file that cannot be opened or written raises Misconfigured naming its path."""
    url = sa.make_url("sqlite+aiosqlite:////srv/hookline/h.db")
    with pytest.raises(Misconfigured) as raised:
        async with translated_errors(url):
            raise sa.exc.OperationalError("", None, SqliteError(words))
    assert raised.value.reason == f"cannot use the SQLite database /srv/hookline/h.db: {words}"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        pytest.param(
            ConnectionRefusedError(111, "Connect call failed"),
            "connection refused by db.internal:5433",
            id="refused",
        ),
        pytest.param(
            socket.gaierror(-2, "Name or service not known"),
            "cannot resolve db.internal: [Errno -2] Name or service not known",
            id="unresolvable",
        ),
        pytest.param(
            sa.exc.OperationalError("", None, SqliteError("database is locked")),
            "SqliteError: database is locked",
            id="locked",
        ),
    ],
)
async def test_unavailable_says_why(error: Exception, reason: str) -> None:
    """A database that may come back raises Unavailable (not Misconfigured) with a reason."""
    with pytest.raises(Unavailable) as raised:
        async with translated_errors(PG):
            raise error
    assert not isinstance(raised.value, Misconfigured)
    assert raised.value.reason == reason


SECRET = "tenant-secret-7f3a"


def leaky_error(sqlstate: str | None) -> sa.exc.DBAPIError:
    """A DBAPIError whose driver message and parameters quote tenant data, as asyncpg's do."""
    driver = DriverError(sqlstate)
    driver.args = (f"invalid input for query argument $1: {SECRET!r}",)
    return sa.exc.DBAPIError("SELECT * FROM tasks WHERE id = $1", (SECRET,), driver)


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        pytest.param(
            leaky_error("22021"), "DBAPIError: DriverError (SQLSTATE 22021)", id="with-sqlstate"
        ),
        pytest.param(leaky_error(None), "DBAPIError: DriverError", id="without-sqlstate"),
        pytest.param(
            sa.exc.StatementError(f"bad bind {SECRET}", "SELECT $1", (SECRET,), ValueError(SECRET)),
            "StatementError: ValueError",
            id="statement-error",
        ),
    ],
)
async def test_hidden_failures_carry_classes_and_sqlstate_only(
    error: sa.exc.StatementError, detail: str
) -> None:
    """With hide_failures, a failed statement is StoreFailed, and no traceback quotes its data."""
    with pytest.raises(StoreFailed) as caught:
        async with translated_errors(hide_failures=True):
            raise error
    assert caught.value.detail == detail
    printed = "".join(traceback.format_exception(caught.value))
    assert SECRET not in printed
    assert SECRET not in caught.value.message


async def test_hidden_failures_still_tell_unavailable_apart() -> None:
    """A server refusing for now is Unavailable, with or without hide_failures."""
    with pytest.raises(Unavailable):
        async with translated_errors(hide_failures=True):
            raise dbapi_error("57P01")
