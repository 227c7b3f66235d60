"""Everything the dashboard reads or changes, in one place: the store calls of its pages.

The pages call the same store methods as the API routes (`ingress/tasks.py`,
`callbacks.py`, `trail.py`), plus the bounded reads of `store/dashboard.py`.
Nothing else in `hookline.ui` touches the store.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

import orjson
from starlette.requests import Request

from hookline.config import Settings
from hookline.errors import Invalid
from hookline.ingress.query import (
    Cursor,
    Query,
    after_token,
    parse_after,
    parse_task_list,
    parse_time,
)
from hookline.ingress.services import services
from hookline.ingress.trail import EVENT_ID_MAX
from hookline.models import (
    Delivery,
    DeliveryStatus,
    EventFilter,
    Principal,
    Task,
    TaskEvent,
    TaskStatus,
)
from hookline.store.dashboard import Activity, DashboardStore, HeldLeases, SessionKey

COUNT_CAP = 10_000
"""Counts stop here; the page shows "10,000+"."""
ACTIVITY_WINDOW = 10_000
"""The overview's rates come from at most this many of the newest events."""
LEASE_WINDOW = 10_000
"""The workers page looks at the oldest this many pending tasks."""
TASKS_PER_PAGE = 50
EVENTS_PER_PAGE = 100
DELIVERIES_PER_PAGE = 50
HOUR_S = 3600.0


def _dashboard(request: Request) -> DashboardStore:
    return DashboardStore(services(request).store.db)


async def authenticate(request: Request, key: str) -> SessionKey | None:
    """The session key of a whole API key, or None when it is unknown or revoked."""
    found = await services(request).store.accounts.authenticate(key)
    if found is None:
        return None
    return await _dashboard(request).session_key(found.key_id)


async def session_key(request: Request, key_id: str) -> SessionKey | None:
    return await _dashboard(request).session_key(key_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview:
    tasks: dict[TaskStatus, int]
    deliveries: dict[DeliveryStatus, int]
    activity: Activity
    failed: list[Delivery]


async def overview(request: Request, who: Principal) -> Overview:
    dashboard = _dashboard(request)
    failed, _ = await dashboard.failed_deliveries(who, limit=10)
    return Overview(
        tasks=await dashboard.task_depths(who, cap=COUNT_CAP),
        deliveries=await dashboard.delivery_depths(who, cap=COUNT_CAP),
        activity=await dashboard.activity(who, last_s=HOUR_S, window=ACTIVITY_WINDOW),
        failed=failed,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskList:
    tasks: list[Task]
    total: int
    offset: int
    next_token: str | None


async def task_list(request: Request, who: Principal, query: Query) -> TaskList:
    """One page of `GET /v1/tasks` for `query` (the API's parameters, parsed the API's way)."""
    parsed = parse_task_list({**query, "limit": [str(TASKS_PER_PAGE)]})
    page = await services(request).store.tasks.page(
        who,
        parsed.filter,
        limit=parsed.limit,
        before_id=parsed.cursor.before_id if parsed.cursor else None,
    )
    offset = parsed.cursor.offset if parsed.cursor else 0
    next_token = None
    if page.has_more and page.last_id is not None:
        next_token = Cursor(page.last_id, offset + len(page.docs)).encode()
    return TaskList(tasks=page.docs, total=page.total, offset=offset, next_token=next_token)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskDetail:
    task: Task
    events: list[TaskEvent]
    events_next: str | None
    deliveries: list[Delivery]


async def task_detail(
    request: Request, who: Principal, task_id: str, events_token: str | None
) -> TaskDetail:
    """A task, a page of its timeline and its deliveries; NotFound outside the key's scope."""
    store = services(request).store
    task = await store.tasks.get(who, task_id)
    after_id = parse_after(events_token, maximum=EVENT_ID_MAX) if events_token else None
    events, has_more = await store.events.events(
        who, EventFilter(task_id=task_id), after_id=after_id, limit=EVENTS_PER_PAGE
    )
    return TaskDetail(
        task=task,
        events=events,
        events_next=after_token(events[-1].id) if has_more and events else None,
        deliveries=await store.deliveries.for_task(who, task_id),
    )


async def resend(request: Request, who: Principal, task_id: str) -> None:
    await services(request).store.deliveries.resend(who, task_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryList:
    failed: list[Delivery]
    next_token: str | None


async def failed_deliveries(request: Request, who: Principal, token: str | None) -> DeliveryList:
    found, after = await _dashboard(request).failed_deliveries(
        who, limit=DELIVERIES_PER_PAGE, before=_decode_before(token) if token else None
    )
    return DeliveryList(failed=found, next_token=_encode_before(after) if after else None)


def _encode_before(after: tuple[datetime, str]) -> str:
    raw = orjson.dumps([after[0].isoformat(), after[1]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_before(token: str) -> tuple[datetime, str]:
    try:
        at, delivery_id = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(at, str) or not isinstance(delivery_id, str):
            raise TypeError(at)
        return parse_time("next_token", at), delivery_id
    except (binascii.Error, ValueError, TypeError, Invalid) as exc:
        raise Invalid("Parameter 'next_token' is not a token this server issued") from exc


async def replay(request: Request, who: Principal, since: datetime, until: datetime | None) -> int:
    return await services(request).store.deliveries.replay(
        who, status=DeliveryStatus.FAILED, since=since, until=until
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Workers:
    held: list[HeldLeases]
    window_full: bool
    claimed_by: dict[str, int]
    activity_complete: bool


async def workers(request: Request, who: Principal) -> Workers:
    dashboard = _dashboard(request)
    held, full = await dashboard.held_leases(who, window=LEASE_WINDOW)
    activity = await dashboard.activity(who, last_s=HOUR_S, window=ACTIVITY_WINDOW)
    return Workers(
        held=held,
        window_full=full,
        claimed_by=activity.claimed_by,
        activity_complete=activity.complete,
    )


def settings_of(request: Request) -> Settings:
    return services(request).settings
