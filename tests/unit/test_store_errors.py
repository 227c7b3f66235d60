"""Which database errors mean "try again later" (503) rather than a bug."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hookline.errors import Unavailable
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
