"""Query-string parsing: times, filters, integers, NUL, limits and cursors."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import orjson
import pytest

from hookline.errors import Invalid
from hookline.ingress.query import (
    INT32_MAX,
    INT64_MAX,
    Cursor,
    Query,
    after_token,
    check_query,
    check_text,
    parse_after,
    parse_bool,
    parse_int,
    parse_limit,
    parse_offset,
    parse_task_list,
    parse_time,
    reject_unknown,
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
    """Offsets default to 0 and must be integers from 0 to 2**63 - 1."""
    assert parse_offset(None) == 0
    assert parse_offset("7") == 7
    assert parse_offset(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(Invalid, match="'offset' must be between 0 and 9223372036854775807, got -1"):
        parse_offset("-1")
    with pytest.raises(Invalid, match="'offset' must be between 0 and 9223372036854775807"):
        parse_offset("9223372036854775808")
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


@pytest.mark.parametrize(
    ("value", "minimum", "maximum", "expected"),
    [
        pytest.param("0", 0, INT64_MAX, 0, id="zero"),
        pytest.param(" 42 ", 0, INT64_MAX, 42, id="padded"),
        pytest.param("+7", 0, INT64_MAX, 7, id="plus-sign"),
        pytest.param(str(INT64_MAX), 0, INT64_MAX, INT64_MAX, id="int64-max"),
        pytest.param(str(INT32_MAX), 0, INT32_MAX, INT32_MAX, id="int32-max"),
        pytest.param("-5", -10, 10, -5, id="negative-allowed"),
        pytest.param("007", 0, 10, 7, id="leading-zeros"),
    ],
)
def test_parse_int_accepts_integers_in_range(
    value: str, minimum: int, maximum: int, expected: int
) -> None:
    """Decimal integers within the bounds parse, bounds included."""
    assert parse_int("n", value, minimum=minimum, maximum=maximum) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            "9223372036854775808", "must be between 0 and 9223372036854775807, got 92", id="2**63"
        ),
        pytest.param("-1", "must be between 0 and 9223372036854775807, got -1", id="negative"),
        pytest.param(
            "1" * 30, "must be between 0 and 9223372036854775807, got 111", id="30-digits"
        ),
        pytest.param("9" * 5000, "must be between 0 and 9223372036854775807", id="5000-digits"),
        pytest.param("1_000", "must be an integer, got '1_000'", id="underscore"),
        pytest.param("١٢", "must be an integer", id="arabic-indic-digits"),
        pytest.param("1e3", "must be an integer", id="exponent"),
        pytest.param("1.0", "must be an integer", id="decimal-point"),
        pytest.param("", "must be an integer", id="empty"),
        pytest.param("--1", "must be an integer", id="double-sign"),
        pytest.param("1\x00", "must be an integer", id="nul"),
    ],
)
def test_parse_int_rejects_non_integers_and_out_of_range(value: str, message: str) -> None:
    """Anything but a decimal integer within the bounds raises Invalid naming the parameter."""
    with pytest.raises(Invalid, match=re.escape(f"Parameter 'offset' {message}")):
        parse_int("offset", value)


def test_parse_int_error_shows_a_long_value_cut_short() -> None:
    """A huge value is not echoed whole in the error message."""
    with pytest.raises(Invalid) as caught:
        parse_int("offset", "9" * 5000)
    assert len(caught.value.message) < 200


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a\x00b", id="middle"),
        pytest.param("\x00", id="alone"),
        pytest.param("end\x00", id="end"),
    ],
)
def test_check_text_rejects_nul_naming_the_parameter(value: str) -> None:
    """A NUL anywhere in a value raises Invalid naming the parameter."""
    with pytest.raises(Invalid, match=re.escape("Parameter 'project' must not contain NUL (%00)")):
        check_text("project", value)


def test_check_text_keeps_other_text() -> None:
    """Text without NUL, control characters and non-ASCII included, comes back unchanged."""
    assert check_text("project", "a\x01b é/%2F") == "a\x01b é/%2F"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(
            {"tags": ["ok", "b\x00d"]}, "Parameter 'tags' must not contain NUL", id="value"
        ),
        pytest.param({"ta\x00gs": ["ok"]}, "Parameter name 'ta\\x00gs' must not", id="name"),
    ],
)
def test_check_query_rejects_nul_in_any_name_or_value(query: Query, message: str) -> None:
    """A NUL in a parameter name or in any of its values raises Invalid."""
    with pytest.raises(Invalid, match=re.escape(message)):
        check_query(query)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("9999-12-31T23:59:59-14:00", id="year-10000-in-utc"),
        pytest.param("9999-12-31T23:00:00-01:00", id="one-hour-past"),
        pytest.param("0001-01-01T00:00:00+14:00", id="year-0-in-utc"),
        pytest.param("0001-01-01T00:59:59+01:00", id="one-second-before-year-1"),
    ],
)
def test_parse_time_rejects_times_outside_the_range_in_utc(value: str) -> None:
    """A time whose offset pushes it outside years 1..9999 in UTC raises Invalid naming it."""
    with pytest.raises(Invalid, match=r"^Parameter 'since' is out of range in UTC"):
        parse_time("since", value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "9999-12-31T23:59:59.999999Z",
            datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            id="last-microsecond",
        ),
        pytest.param(
            "9999-12-31T09:59:59-14:00",
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
            id="offset-just-inside",
        ),
        pytest.param("0001-01-01", datetime(1, 1, 1, tzinfo=UTC), id="first-day"),
        pytest.param(
            "0001-01-01T14:00:00+14:00", datetime(1, 1, 1, tzinfo=UTC), id="offset-to-first"
        ),
    ],
)
def test_parse_time_accepts_the_extremes(value: str, expected: datetime) -> None:
    """The first and last representable UTC instants parse, offsets included."""
    assert parse_time("since", value) == expected


@pytest.mark.parametrize("last_id", [0, 1, 123456, INT32_MAX, INT64_MAX])
def test_after_token_round_trips(last_id: int) -> None:
    """An audit-trail token decodes back to the id it was made from."""
    assert parse_after(after_token(last_id), maximum=INT64_MAX) == last_id


@pytest.mark.parametrize(
    ("token", "maximum"),
    [
        pytest.param(after_token(INT64_MAX + 1), INT64_MAX, id="2**63"),
        pytest.param(after_token(2**64), INT64_MAX, id="2**64"),
        pytest.param(after_token(INT32_MAX + 1), INT32_MAX, id="over-int32-for-audits"),
        pytest.param(after_token(10**40), INT64_MAX, id="40-digits"),
        pytest.param(base64.urlsafe_b64encode(b"after:-5").decode(), INT64_MAX, id="negative"),
        pytest.param(base64.urlsafe_b64encode(b"after:1_0").decode(), INT64_MAX, id="underscore"),
        pytest.param(base64.urlsafe_b64encode(b"after:").decode(), INT64_MAX, id="no-number"),
        pytest.param(base64.urlsafe_b64encode(b"before:5").decode(), INT64_MAX, id="prefix"),
        pytest.param(base64.urlsafe_b64encode("after:٣".encode()).decode(), INT64_MAX, id="digit"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe").decode(), INT64_MAX, id="not-utf8"),
        pytest.param("!!!", INT64_MAX, id="not-base64"),
    ],
)
def test_parse_after_rejects_tokens_this_server_did_not_issue(token: str, maximum: int) -> None:
    """Tokens naming ids past the column's range, or malformed ones, raise Invalid."""
    with pytest.raises(Invalid, match="'next_token' is not a token this server issued"):
        parse_after(token, maximum=maximum)


@pytest.mark.parametrize("offset", [INT64_MAX + 1, 2**64, 10**30])
def test_cursor_decode_rejects_offsets_past_64_bits(offset: int) -> None:
    """A task-list token with an offset past 2**63 - 1 was not issued here."""
    raw = b'{"b": "%s", "o": %d}' % (OBJECT_ID.encode(), offset)
    with pytest.raises(Invalid, match="'next_token' is not a token this server issued"):
        Cursor.decode(base64.urlsafe_b64encode(raw).decode())


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param({"project": ["a\x00b"]}, "'project' must not contain NUL", id="nul-project"),
        pytest.param(
            {"start_time": ["9999-12-31T23:59:59-14:00"]},
            "'start_time' is out of range in UTC",
            id="far-start-time",
        ),
    ],
)
def test_parse_task_list_checks_text_and_times(query: Query, message: str) -> None:
    """The task list's filters go through the edge checks too."""
    with pytest.raises(Invalid, match=re.escape(message)):
        parse_task_list(check_query(query))


def test_reject_unknown_says_when_an_endpoint_takes_no_parameters() -> None:
    """An endpoint without query parameters says so instead of listing none."""
    with pytest.raises(Invalid, match="'bogus'; this endpoint takes no query parameters"):
        reject_unknown({"bogus": ["1"]}, frozenset())
