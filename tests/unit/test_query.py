"""Query-string parsing for GET /v1/tasks: times, filters, limits and cursors."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import orjson
import pytest

from hookline.errors import Invalid
from hookline.ingress.query import (
    Cursor,
    Query,
    parse_bool,
    parse_limit,
    parse_offset,
    parse_task_list,
    parse_time,
)
from hookline.models import TaskFilter, TaskStatus

OBJECT_ID = "018f3c2a1b7e0123456789ab"


def token(data: object) -> str:
    """A next_token made by hand from arbitrary JSON."""
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC), id="date"),
        pytest.param(
            "2024-05-01 13:14:15.123456",
            datetime(2024, 5, 1, 13, 14, 15, 123456, tzinfo=UTC),
            id="space-separated-micros",
        ),
        pytest.param(
            "2024-05-01T13:14:15Z", datetime(2024, 5, 1, 13, 14, 15, tzinfo=UTC), id="iso-z"
        ),
        pytest.param(
            "2024-05-01T13:14:15+02:00",
            datetime(2024, 5, 1, 11, 14, 15, tzinfo=UTC),
            id="iso-offset",
        ),
        pytest.param(
            "2024-05-01T01:00:00-05:30",
            datetime(2024, 5, 1, 6, 30, tzinfo=UTC),
            id="iso-negative-offset",
        ),
        pytest.param(
            "2024-05-01T13:14:15", datetime(2024, 5, 1, 13, 14, 15, tzinfo=UTC), id="naive"
        ),
        pytest.param(" 2024-05-01 ", datetime(2024, 5, 1, tzinfo=UTC), id="padded"),
    ],
)
def test_parse_time_accepts_scale_formats(value: str, expected: datetime) -> None:
    """Dates, space-separated times and ISO 8601 parse to aware UTC datetimes."""
    parsed = parse_time("start_time", value)

    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("yesterday", id="word"),
        pytest.param("", id="empty"),
        pytest.param("2024-13-01", id="bad-month"),
        pytest.param("1714567890", id="epoch"),
    ],
)
def test_parse_time_rejects_garbage_naming_the_parameter(value: str) -> None:
    """A value that is not a date or time raises Invalid naming the parameter."""
    with pytest.raises(Invalid, match=r"^Parameter 'updated_after' is not a date or time"):
        parse_time("updated_after", value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("True", True, id="True"),
        pytest.param("False", False, id="False"),
        pytest.param("true", True, id="true"),
        pytest.param("false", False, id="false"),
        pytest.param("1", True, id="one"),
        pytest.param("0", False, id="zero"),
        pytest.param("yes", True, id="yes"),
        pytest.param("no", False, id="no"),
        pytest.param("", False, id="empty"),
    ],
)
def test_parse_bool_accepts_client_spellings(value: str, expected: bool) -> None:
    """Booleans as the scaleapi client sends them (True/False) and common spellings parse."""
    assert parse_bool("limited_response", value) is expected


def test_parse_bool_rejects_other_values() -> None:
    """Any other value raises Invalid naming the parameter."""
    with pytest.raises(Invalid, match="'limited_response' must be true or false"):
        parse_bool("limited_response", "maybe")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, 100, id="default"),
        pytest.param("1", 1, id="min"),
        pytest.param("100", 100, id="max"),
        pytest.param("42", 42, id="middle"),
    ],
)
def test_parse_limit_accepts_1_to_100(value: str | None, expected: int) -> None:
    """Limits from 1 to 100 are accepted and a missing limit means 100."""
    assert parse_limit(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("0", "must be between 1 and 100, got 0", id="zero"),
        pytest.param("101", "must be between 1 and 100, got 101", id="over"),
        pytest.param("-5", "must be between 1 and 100, got -5", id="negative"),
        pytest.param("ten", "must be an integer, got 'ten'", id="word"),
    ],
)
def test_parse_limit_rejects_out_of_range(value: str, message: str) -> None:
    """Limits outside 1..100 or not integers raise Invalid naming 'limit'."""
    with pytest.raises(Invalid, match=re.escape(f"Parameter 'limit' {message}")):
        parse_limit(value)


def test_parse_offset() -> None:
    """Offsets default to 0 and must be non-negative integers."""
    assert parse_offset(None) == 0
    assert parse_offset("7") == 7
    with pytest.raises(Invalid, match="'offset' must not be negative"):
        parse_offset("-1")
    with pytest.raises(Invalid, match="'offset' must be an integer"):
        parse_offset("x")


def test_parse_task_list_defaults() -> None:
    """An empty query gives an empty filter, limit 100, no cursor and full responses."""
    parsed = parse_task_list({})

    assert parsed.filter == TaskFilter()
    assert parsed.limit == 100
    assert parsed.cursor is None
    assert parsed.limited_response is False


def test_parse_task_list_reads_every_filter() -> None:
    """Each supported parameter lands in its TaskFilter field."""
    query: Query = {
        "start_time": ["2024-01-01"],
        "end_time": ["2024-02-01"],
        "updated_after": ["2024-01-02"],
        "updated_before": ["2024-01-03"],
        "completed_after": ["2024-01-04"],
        "completed_before": ["2024-01-05"],
        "status": ["completed"],
        "type": ["categorization"],
        "project": ["pets"],
        "batch": ["b1"],
        "customer_review_status": ["accepted"],
        "limit": ["10"],
        "next_token": [Cursor(OBJECT_ID, 20).encode()],
        "limited_response": ["True"],
        "include_attachment_url": ["False"],
    }

    parsed = parse_task_list(query)

    assert parsed.filter == TaskFilter(
        created_after=datetime(2024, 1, 1, tzinfo=UTC),
        created_before=datetime(2024, 2, 1, tzinfo=UTC),
        updated_after=datetime(2024, 1, 2, tzinfo=UTC),
        updated_before=datetime(2024, 1, 3, tzinfo=UTC),
        completed_after=datetime(2024, 1, 4, tzinfo=UTC),
        completed_before=datetime(2024, 1, 5, tzinfo=UTC),
        statuses=(TaskStatus.COMPLETED,),
        type="categorization",
        project="pets",
        batch="b1",
        review_statuses=("accepted",),
    )
    assert parsed.limit == 10
    assert parsed.cursor == Cursor(OBJECT_ID, 20)
    assert parsed.limited_response is True


def test_created_after_and_before_are_aliases_of_start_and_end_time() -> None:
    """created_after and created_before fill the same fields as start_time and end_time."""
    parsed = parse_task_list(
        {"created_after": ["2024-01-01"], "created_before": ["2024-02-01T00:00:00Z"]}
    )

    assert parsed.filter.created_after == datetime(2024, 1, 1, tzinfo=UTC)
    assert parsed.filter.created_before == datetime(2024, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param({"colour": ["red"]}, "Unknown parameter 'colour'", id="unknown"),
        pytest.param({"offset": ["1"]}, "Unknown parameter 'offset'", id="offset-unknown-here"),
        pytest.param({"limit": ["0"]}, "'limit' must be between 1 and 100", id="limit-zero"),
        pytest.param({"limit": ["101"]}, "'limit' must be between 1 and 100", id="limit-101"),
        pytest.param({"type": ["a", "b"]}, "'type' was given 2 times", id="repeated-type"),
        pytest.param({"limit": ["5", "6"]}, "'limit' was given 2 times", id="repeated-limit"),
        pytest.param(
            {"start_time": ["2024-01-01", "2024-01-02"]},
            "'start_time' was given 2 times",
            id="repeated-start-time",
        ),
        pytest.param({"status": ["done"]}, "'status' must be one of", id="bad-status"),
        pytest.param({"status": ["pending,done"]}, "got 'done'", id="bad-status-in-comma-list"),
        pytest.param(
            {"customer_review_status": ["great"]},
            "'customer_review_status' must be a comma list",
            id="bad-review-status",
        ),
        pytest.param(
            {"start_time": ["2024-01-01"], "created_after": ["2024-01-01"]},
            "Give only one of 'start_time', 'created_after'",
            id="start-time-and-created-after",
        ),
        pytest.param(
            {"end_time": ["2024-01-01"], "created_before": ["2024-01-01"]},
            "Give only one of 'end_time', 'created_before'",
            id="end-time-and-created-before",
        ),
        pytest.param({"updated_before": ["soon"]}, "'updated_before' is not a date", id="bad-time"),
        pytest.param(
            {"limited_response": ["maybe"]}, "'limited_response' must be true", id="bad-bool"
        ),
        pytest.param(
            {"include_attachment_url": ["maybe"]},
            "'include_attachment_url' must be true",
            id="bad-attachment-bool",
        ),
        pytest.param({"next_token": ["nope"]}, "'next_token' is not a token", id="bad-token"),
    ],
)
def test_parse_task_list_rejects_bad_queries(query: Query, message: str) -> None:
    """Unknown, repeated, conflicting or malformed parameters raise Invalid naming them."""
    with pytest.raises(Invalid, match=re.escape(message)):
        parse_task_list(query)


def test_parse_task_list_accepts_repeated_unique_id_and_tags() -> None:
    """unique_id and tags may repeat, and every value is kept in order."""
    parsed = parse_task_list({"unique_id": ["u1", "u2", "u3"], "tags": ["red", "blue"]})

    assert parsed.filter.unique_ids == ("u1", "u2", "u3")
    assert parsed.filter.tags == ("red", "blue")


def test_parse_task_list_splits_comma_lists() -> None:
    """status and customer_review_status take comma lists, repeated or not, ignoring blanks."""
    parsed = parse_task_list(
        {
            "status": ["pending, completed", "canceled,"],
            "customer_review_status": ["accepted,fixed", " rejected "],
        }
    )

    assert parsed.filter.statuses == (
        TaskStatus.PENDING,
        TaskStatus.COMPLETED,
        TaskStatus.CANCELED,
    )
    assert parsed.filter.review_statuses == ("accepted", "fixed", "rejected")


def test_parse_task_list_ignores_empty_next_token() -> None:
    """An empty next_token means the first page."""
    assert parse_task_list({"next_token": [""]}).cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(Cursor(OBJECT_ID, 0), id="offset-zero"),
        pytest.param(Cursor(OBJECT_ID, 12345), id="offset-large"),
        pytest.param(Cursor("f" * 24, 1), id="other-id"),
    ],
)
def test_cursor_round_trips(cursor: Cursor) -> None:
    """A cursor decodes back to itself from its URL-safe, unpadded token."""
    encoded = cursor.encode()

    assert "=" not in encoded
    assert re.fullmatch(r"[A-Za-z0-9_-]+", encoded)
    assert Cursor.decode(encoded) == cursor


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param("", id="empty"),
        pytest.param("!!!!", id="not-base64"),
        pytest.param("é", id="non-ascii"),
        pytest.param(base64.urlsafe_b64encode(b"not json").decode(), id="not-json"),
        pytest.param(token([1, 2]), id="json-array"),
        pytest.param(token("text"), id="json-string"),
        pytest.param(token({"b": OBJECT_ID}), id="missing-offset"),
        pytest.param(token({"o": 1}), id="missing-id"),
        pytest.param(token({"b": "short", "o": 1}), id="id-not-object-id"),
        pytest.param(token({"b": 5, "o": 1}), id="id-not-string"),
        pytest.param(token({"b": OBJECT_ID, "o": -1}), id="negative-offset"),
        pytest.param(token({"b": OBJECT_ID, "o": "1"}), id="offset-string"),
        pytest.param(token({"b": OBJECT_ID, "o": 1.5}), id="offset-float"),
    ],
)
def test_cursor_decode_rejects_garbage(garbage: str) -> None:
    """Tokens this server did not issue raise Invalid."""
    with pytest.raises(Invalid, match="'next_token' is not a token this server issued"):
        Cursor.decode(garbage)


def test_cursor_decode_rejects_boolean_offset() -> None:
    """A token whose offset is a boolean is not one this server issued."""
    with pytest.raises(Invalid, match="'next_token'"):
        Cursor.decode(token({"b": OBJECT_ID, "o": True}))
