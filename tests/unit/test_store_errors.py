"""Which database errors mean "try again later" (503) rather than a bug."""

from __future__ import annotations

import traceback

import pytest
import sqlalchemy as sa

from hookline.errors import StoreFailed, Unavailable
from hookline.store.base import translated_errors


class DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter raises: the server's SQLSTATE as `sqlstate`."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
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
