"""Property tests of the edge validators: NUL, huge integers and far times give Invalid only."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hookline.errors import Invalid
from hookline.ingress.http import is_json_media_type
from hookline.ingress.query import (
    INT32_MAX,
    INT64_MAX,
    Cursor,
    after_token,
    check_query,
    parse_after,
    parse_int,
    parse_task_list,
    parse_time,
)
from hookline.submission import MAX_PRIORITY, MIN_PRIORITY, check_priority

with_nul = st.tuples(st.text(max_size=20), st.text(max_size=20)).map(
    lambda parts: parts[0] + "\x00" + parts[1]
)
huge = st.one_of(
    st.integers(min_value=INT64_MAX + 1),
    st.integers(max_value=-1),
    st.integers(min_value=10**19, max_value=10**40),
)
FIRST = datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """What `function` returns, or the Invalid it raises (any other exception propagates)."""
    try:
        return function(*args, **kwargs)
    except Invalid as exc:
        return exc


@given(name=st.sampled_from(["project", "tags", "type", "since"]), value=with_nul)
def test_any_value_with_nul_is_refused_naming_its_parameter(name: str, value: str) -> None:
    """check_query refuses a NUL anywhere in a value, naming the parameter."""
    with pytest.raises(Invalid, match=f"Parameter '{name}' must not contain NUL"):
        check_query({name: ["fine", value]})


@given(value=st.text())
def test_parse_time_answers_a_utc_time_or_invalid(value: str) -> None:
    """Any string parses to an aware UTC datetime or raises Invalid, nothing else."""
    parsed = outcome(parse_time, "start_time", value)
    if isinstance(parsed, Invalid):
        assert "'start_time'" in parsed.message
    else:
        assert parsed.tzinfo is UTC


@given(
    wall=st.datetimes(min_value=FIRST.replace(tzinfo=None), max_value=LAST.replace(tzinfo=None)),
    tz=offsets,
)
@example(wall=LAST.replace(tzinfo=None), tz=timezone(timedelta(hours=-14)))
@example(wall=FIRST.replace(tzinfo=None), tz=timezone(timedelta(hours=14)))
def test_parse_time_with_any_offset_is_the_utc_instant_or_out_of_range(
    wall: datetime, tz: timezone
) -> None:
    """A time with any offset is that instant in UTC, or Invalid when UTC leaves years 1..9999."""
    text = wall.replace(tzinfo=tz).isoformat()
    # Time since 0001-01-01 UTC, in timedelta arithmetic, which cannot overflow here.
    since_first = (wall.replace(tzinfo=UTC) - FIRST) - (tz.utcoffset(None) or timedelta(0))
    if timedelta(0) <= since_first <= LAST - FIRST:
        assert parse_time("until", text) == FIRST + since_first
    else:
        with pytest.raises(Invalid, match="'until' is out of range in UTC"):
            parse_time("until", text)


@given(number=st.integers())
def test_parse_int_accepts_exactly_the_range(number: int) -> None:
    """Every integer parses to itself inside 0..2**63-1 and raises Invalid outside it."""
    if 0 <= number <= INT64_MAX:
        assert parse_int("offset", str(number)) == number
    else:
        with pytest.raises(Invalid, match="'offset' must be between 0 and"):
            parse_int("offset", str(number))


@given(value=st.text())
def test_parse_int_answers_an_integer_or_invalid(value: str) -> None:
    """Any string parses to an integer within bounds or raises Invalid, nothing else."""
    number = outcome(parse_int, "limit", value, minimum=1, maximum=100)
    if isinstance(number, Invalid):
        assert "'limit'" in number.message
    else:
        assert 1 <= number <= 100


@given(last_id=huge)
def test_after_tokens_past_the_column_range_are_refused(last_id: int) -> None:
    """A next_token naming a negative id or one past 2**63-1 raises Invalid."""
    token = base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode()
    with pytest.raises(Invalid, match="'next_token' is not a token this server issued"):
        parse_after(token, maximum=INT64_MAX)


@given(last_id=st.integers(min_value=0, max_value=INT32_MAX))
def test_after_tokens_round_trip_within_the_range(last_id: int) -> None:
    """Every id in range survives the token round trip."""
    assert parse_after(after_token(last_id), maximum=INT32_MAX) == last_id


@given(token=st.text())
def test_any_next_token_decodes_or_is_invalid(token: str) -> None:
    """Arbitrary next_token strings decode to a bounded cursor or raise Invalid."""
    after = outcome(parse_after, token, maximum=INT64_MAX)
    assert isinstance(after, Invalid) or 0 <= after <= INT64_MAX
    cursor = outcome(Cursor.decode, token)
    assert isinstance(cursor, Invalid) or 0 <= cursor.offset <= INT64_MAX


@given(
    name=st.sampled_from(["type", "project", "batch", "unique_id", "tags", "status"]),
    value=with_nul,
)
def test_task_list_filters_with_nul_are_refused(name: str, value: str) -> None:
    """Every /tasks filter with a NUL is refused by the edge before parsing."""
    with pytest.raises(Invalid, match=f"'{name}' must not contain NUL"):
        parse_task_list(check_query({name: [value]}))


@given(priority=st.integers())
def test_priority_accepts_exactly_the_int32_range(priority: int) -> None:
    """A priority is accepted inside -2**31..2**31-1 and refused with Invalid outside it."""
    if MIN_PRIORITY <= priority <= MAX_PRIORITY:
        assert check_priority(priority) == priority
    else:
        with pytest.raises(Invalid, match="'priority' must be between"):
            check_priority(priority)


@given(value=st.text())
def test_is_json_media_type_never_raises(value: str) -> None:
    """Any Content-Type header value is classified, never an exception."""
    assert isinstance(is_json_media_type(value), bool)
