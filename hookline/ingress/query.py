"""Query-string parsing for list endpoints. Pure: no Starlette types."""

from __future__ import annotations

import base64
import binascii
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


def parse_time(name: str, value: str) -> datetime:
    """`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS.ffffff` or ISO 8601; no offset means UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid(
            f"Parameter {name!r} is not a date or time: {value!r}; use YYYY-MM-DD, "
            "'YYYY-MM-DD HH:MM:SS.ffffff' or ISO 8601"
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


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
    try:
        limit = int(value)
    except ValueError as exc:
        raise Invalid(f"Parameter 'limit' must be an integer, got {value!r}") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"Parameter 'limit' must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def parse_offset(value: str | None) -> int:
    if value is None:
        return 0
    try:
        offset = int(value)
    except ValueError as exc:
        raise Invalid(f"Parameter 'offset' must be an integer, got {value!r}") from exc
    if offset < 0:
        raise Invalid("Parameter 'offset' must not be negative")
    return offset


def reject_unknown(query: Query, allowed: frozenset[str]) -> None:
    unknown = sorted(set(query) - allowed)
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
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise Invalid("Parameter 'next_token' is not a token this server issued")
        return cls(before_id, offset)


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
