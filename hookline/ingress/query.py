"""Query-string parsing for list endpoints. Pure: no Starlette types.

Every value from a path or query string goes through these functions before it
reaches the store: text without NUL (PostgreSQL cannot hold it), integers
within what both backends bind (64-bit on SQLite, 32- or 64-bit columns on
PostgreSQL), times that stay within `datetime`'s range in UTC. Each error names
the parameter.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from hookline.errors import Invalid
from hookline.ids import is_object_id
from hookline.models import TaskFilter, TaskStatus

Query = Mapping[str, Sequence[str]]
"""Each parameter with every value it was given (repeated keys arrive as several)."""

TASK_LIST_PARAMS = frozenset(
    {
        "start_time",
        "end_time",
        "created_after",
        "created_before",
        "updated_after",
        "updated_before",
        "completed_after",
        "completed_before",
        "status",
        "type",
        "project",
        "batch",
        "customer_review_status",
        "unique_id",
        "tags",
        "limit",
        "next_token",
        "limited_response",
        "include_attachment_url",
    }
)
REVIEW_STATUSES = frozenset({"pending", "accepted", "fixed", "commented", "rejected"})
MAX_LIMIT = 100
INT32_MAX = 2**31 - 1
"""The largest value of a PostgreSQL `integer` column (ids of audits, task priority)."""
INT64_MAX = 2**63 - 1
"""The largest integer SQLite or a PostgreSQL `bigint` binds (offsets, event ids)."""
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _shown(value: str) -> str:
    """A value for an error message: quoted, and cut short when long."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def check_text(name: str, value: str, *, what: str = "Parameter") -> str:
    """`value` unchanged, unless it holds a NUL, which PostgreSQL cannot compare or store.

    Refused on every backend alike, so that an API answers the same on both.
    """
    if "\x00" in value:
        raise Invalid(f"{what} {name!r} must not contain NUL (%00)")
    return value


def check_query(query: Query) -> Query:
    """`query` unchanged, unless a parameter name or value holds a NUL."""
    for name, values in query.items():
        if "\x00" in name:
            raise Invalid(f"Parameter name {_shown(name)} must not contain NUL (%00)")
        for value in values:
            check_text(name, value)
    return query


def parse_int(name: str, value: str, *, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """A decimal integer from `minimum` to `maximum`, else Invalid naming `name`."""
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise Invalid(f"Parameter {name!r} must be an integer, got {_shown(value)}")
    # Past 20 digits it is out of range whatever the bounds; int() would also
    # refuse very long strings with an error of its own.
    number = int(text) if len(text) <= 21 else None
    if number is None or not minimum <= number <= maximum:
        shown = text[:24] + "…" if number is None else number
        raise Invalid(f"Parameter {name!r} must be between {minimum} and {maximum}, got {shown}")
    return number


def parse_time(name: str, value: str) -> datetime:
    """`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS.ffffff` or ISO 8601; no offset means UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid(
            f"Parameter {name!r} is not a date or time: {_shown(value)}; use YYYY-MM-DD, "
            "'YYYY-MM-DD HH:MM:SS.ffffff' or ISO 8601"
        ) from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        # 9999-12-31T23:59:59-14:00 is in year 10000 in UTC, 0001-01-01T00:00+01:00 in year 0.
        raise Invalid(
            f"Parameter {name!r} is out of range in UTC: {_shown(value)}; "
            "give a time from 0001-01-01 to 9999-12-31 UTC"
        ) from exc


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise Invalid(f"Parameter {name!r} must be true or false, got {value!r}")


def parse_limit(value: str | None, *, default: int = MAX_LIMIT) -> int:
    if value is None:
        return default
    return parse_int("limit", value, minimum=1, maximum=MAX_LIMIT)


def parse_offset(value: str | None) -> int:
    if value is None:
        return 0
    return parse_int("offset", value, maximum=INT64_MAX)


def reject_unknown(query: Query, allowed: frozenset[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown and not allowed:
        raise Invalid(f"Unknown parameter {unknown[0]!r}; this endpoint takes no query parameters")
    if unknown:
        raise Invalid(f"Unknown parameter {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


def single(query: Query, name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise Invalid(f"Parameter {name!r} was given {len(values)} times; give it once")
    return values[0]


def comma_list(query: Query, name: str) -> tuple[str, ...]:
    return tuple(
        item.strip() for value in query.get(name, ()) for item in value.split(",") if item.strip()
    )


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after `before_id`, at position `offset`."""

    before_id: str
    offset: int

    def encode(self) -> str:
        raw = orjson.dumps({"b": self.before_id, "o": self.offset})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = orjson.loads(raw)
            before_id, offset = data["b"], data["o"]
        except (binascii.Error, ValueError, KeyError, TypeError) as exc:
            raise Invalid("Parameter 'next_token' is not a token this server issued") from exc
        if not isinstance(before_id, str) or not is_object_id(before_id):
            raise Invalid("Parameter 'next_token' is not a token this server issued")
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= INT64_MAX:
            raise Invalid("Parameter 'next_token' is not a token this server issued")
        return cls(before_id, offset)


def after_token(last_id: int) -> str:
    """The `next_token` of a page that ends at row `last_id` (the audit-trail lists)."""
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def parse_after(token: str, *, maximum: int) -> int:
    """The row id an `after_token` names; ids above `maximum` were never issued."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "after" or not number.isascii() or not number.isdigit():
            raise ValueError(text)
        after = int(number) if len(number) <= 20 else maximum + 1
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Invalid("Parameter 'next_token' is not a token this server issued") from exc
    if after > maximum:
        raise Invalid("Parameter 'next_token' is not a token this server issued")
    return after


@dataclass(frozen=True, slots=True)
class TaskListQuery:
    filter: TaskFilter
    limit: int
    cursor: Cursor | None
    limited_response: bool


def parse_task_list(query: Query) -> TaskListQuery:
    """`GET /v1/tasks` parameters; unknown ones are a 400 rather than silently ignored."""
    reject_unknown(query, TASK_LIST_PARAMS)

    def time(*names: str) -> datetime | None:
        found = [(n, v) for n in names if (v := single(query, n)) is not None]
        if len(found) > 1:
            raise Invalid(f"Give only one of {', '.join(repr(n) for n in names)}")
        return parse_time(*found[0]) if found else None

    statuses = []
    for value in comma_list(query, "status"):
        try:
            statuses.append(TaskStatus(value))
        except ValueError as exc:
            raise Invalid(
                f"Parameter 'status' must be one of {', '.join(s.value for s in TaskStatus)}, "
                f"got {value!r}"
            ) from exc
    reviews = comma_list(query, "customer_review_status")
    for value in reviews:
        if value not in REVIEW_STATUSES:
            raise Invalid(
                "Parameter 'customer_review_status' must be a comma list of "
                f"{', '.join(sorted(REVIEW_STATUSES))}, got {value!r}"
            )
    token = single(query, "next_token")
    limited = single(query, "limited_response")
    attachment = single(query, "include_attachment_url")
    if attachment is not None:
        parse_bool("include_attachment_url", attachment)  # accepted; attachments are URLs already
    return TaskListQuery(
        filter=TaskFilter(
            created_after=time("start_time", "created_after"),
            created_before=time("end_time", "created_before"),
            updated_after=time("updated_after"),
            updated_before=time("updated_before"),
            completed_after=time("completed_after"),
            completed_before=time("completed_before"),
            statuses=tuple(statuses),
            type=single(query, "type"),
            project=single(query, "project"),
            batch=single(query, "batch"),
            review_statuses=reviews,
            unique_ids=tuple(query.get("unique_id", ())),
            tags=tuple(query.get("tags", ())),
        ),
        limit=parse_limit(single(query, "limit")),
        cursor=Cursor.decode(token) if token else None,
        limited_response=parse_bool("limited_response", limited) if limited else False,
    )
