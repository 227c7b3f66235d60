"""The audit trail: `GET /task/{id}/events`, `GET /events`, `GET /audits`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hookline.errors import Invalid
from hookline.ingress.http import path_param, query_of
from hookline.ingress.query import (
    INT32_MAX,
    INT64_MAX,
    Query,
    after_token,
    comma_list,
    parse_after,
    parse_limit,
    parse_time,
    reject_unknown,
    single,
)
from hookline.ingress.services import services
from hookline.models import AuditFilter, EventFilter, Principal, ReviewResult
from hookline.serialize import audit_record_json, event_json

EVENT_PARAMS = frozenset(
    {"task_id", "action", "actor", "project", "since", "until", "limit", "next_token"}
)
AUDIT_PARAMS = frozenset({"result", "auditor", "project", "since", "until", "limit", "next_token"})


EVENT_ACTIONS = frozenset(
    {
        "created",
        "claimed",
        "lease_expired",
        "attempt_failed",
        "completed",
        "errored",
        "canceled",
        "redone",
        "retried",
        "released",
        "metadata_set",
        "tags_changed",
        "unique_id_changed",
        "audited",
        "callback_delivered",
        "callback_failed",
        "callback_resent",
    }
)
"""Every `action` the store writes to the audit trail."""
# Event ids are `bigint` on PostgreSQL, audit ids `integer`: a larger id was never issued.
EVENT_ID_MAX = INT64_MAX
AUDIT_ID_MAX = INT32_MAX


def _after(query: Query, *, maximum: int) -> int | None:
    token = single(query, "next_token")
    return parse_after(token, maximum=maximum) if token else None


def _actions(query: Query) -> tuple[str, ...]:
    actions = comma_list(query, "action")
    for action in actions:
        if action not in EVENT_ACTIONS:
            raise Invalid(
                f"Parameter 'action' must be a comma list of {', '.join(sorted(EVENT_ACTIONS))}; "
                f"got {action[:40]!r}"
            )
    return actions


def _page(docs: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "docs": docs,
        "has_more": has_more,
        "next_token": after_token(docs[-1]["id"]) if has_more and docs else None,
    }


def _times(query: Query) -> tuple[Any, Any]:
    since, until = single(query, "since"), single(query, "until")
    return (
        parse_time("since", since) if since else None,
        parse_time("until", until) if until else None,
    )


async def task_events(request: Request, who: Principal) -> dict[str, Any]:
    """The whole story of one task, oldest first."""
    query = query_of(request)
    reject_unknown(query, frozenset({"limit", "next_token"}))
    store = services(request).store
    task_id = path_param(request, "task_id")
    after_id = _after(query, maximum=EVENT_ID_MAX)
    limit = parse_limit(single(query, "limit"))
    await store.tasks.get(who, task_id)  # 404 for an unknown or foreign task
    events, has_more = await store.events.events(
        who, EventFilter(task_id=task_id), after_id=after_id, limit=limit
    )
    return _page([event_json(e) for e in events], has_more)


async def events(request: Request, who: Principal) -> dict[str, Any]:
    query = query_of(request)
    reject_unknown(query, EVENT_PARAMS)
    since, until = _times(query)
    found, has_more = await services(request).store.events.events(
        who,
        EventFilter(
            task_id=single(query, "task_id"),
            actions=_actions(query),
            actor=single(query, "actor"),
            project=single(query, "project"),
            since=since,
            until=until,
        ),
        after_id=_after(query, maximum=EVENT_ID_MAX),
        limit=parse_limit(single(query, "limit")),
    )
    return _page([event_json(e) for e in found], has_more)


async def audits(request: Request, who: Principal) -> dict[str, Any]:
    query = query_of(request)
    reject_unknown(query, AUDIT_PARAMS)
    results = comma_list(query, "result")
    for result in results:
        if result not in {r.value for r in ReviewResult}:
            raise Invalid("Parameter 'result' must be a comma list of accepted, fixed, rejected")
    since, until = _times(query)
    found, has_more = await services(request).store.events.audits(
        who,
        AuditFilter(
            results=results,
            auditor=single(query, "auditor"),
            project=single(query, "project"),
            since=since,
            until=until,
        ),
        after_id=_after(query, maximum=AUDIT_ID_MAX),
        limit=parse_limit(single(query, "limit")),
    )
    return _page([audit_record_json(r) for r in found], has_more)
