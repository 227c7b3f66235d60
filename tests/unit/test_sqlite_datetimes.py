"""UTCDateTime on SQLite: one function each way, writing the text SQLAlchemy's own
SQLite DATETIME writes, so rows written before and after read and sort alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from hookline.store.tables import UTCDateTime

DIALECT = sqlite.dialect()
BIND = UTCDateTime().bind_processor(DIALECT)
RESULT = UTCDateTime().result_processor(DIALECT, None)
STOCK_TEXT = sqlite.DATETIME().bind_processor(DIALECT)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 3, 6, 1, 2, 345678, tzinfo=UTC),
        datetime(2026, 12, 3, 6, 1, 2, tzinfo=UTC),  # microseconds still written
        datetime(999, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 8, 1, 2, 5, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_the_text_is_sqlalchemys_and_reads_back_as_the_same_instant(value: datetime) -> None:
    assert BIND is not None
    assert RESULT is not None
    assert STOCK_TEXT is not None
    text = BIND(value)
    assert text == STOCK_TEXT(value.astimezone(UTC).replace(tzinfo=None))
    back = RESULT(text)
    assert back == value
    assert back.tzinfo is UTC


def test_text_order_is_time_order() -> None:
    assert BIND is not None
    base = datetime(2026, 12, 3, 6, 0, 0, tzinfo=UTC)
    instants = [base + timedelta(microseconds=n) for n in (0, 1, 999_999, 1_000_000)]
    assert sorted(instants, key=BIND) == instants


def test_a_naive_datetime_is_refused_and_none_passes() -> None:
    assert BIND is not None
    assert RESULT is not None
    with pytest.raises(ValueError, match="naive datetime"):
        BIND(datetime(2026, 12, 3))  # noqa: DTZ001 - naive on purpose
    assert BIND(None) is None
    assert RESULT(None) is None


def test_other_backends_keep_sqlalchemys_processing() -> None:
    process = UTCDateTime().bind_processor(postgresql.dialect())
    assert process is not None
    assert process is not BIND
    converted = process(datetime(2026, 12, 3, 8, tzinfo=timezone(timedelta(hours=2))))
    assert converted == datetime(2026, 12, 3, 6, tzinfo=UTC)
    assert converted.tzinfo is UTC
