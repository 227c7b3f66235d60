"""The audit trail: `GET /task/{id}/events`, `GET /events`, `GET /audits`."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request

from hookline.errors import Invalid
from hookline.ingress.http import path_param
from hookline.ingress.query import (
    Query,
    comma_list,
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


def _query(request: Request) -> Query:
    return {key: request.query_params.getlist(key) for key in request.query_params}


def _token(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def _after(query: Query) -> int | None:
    token = single(query, "next_token")
    if not token:
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "after":
            raise ValueError(text)
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Invalid("Parameter 'next_token' is not a token this server issued") from exc


def _page(docs: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "docs": docs,
        "has_more": has_more,
        "next_token": _token(docs[-1]["id"]) if has_more and docs else None,
    }


def _times(query: Query) -> tuple[Any, Any]:
    since, until = single(query, "since"), single(query, "until")
    return (
        parse_time("since", since) if since else None,
        parse_time("until", until) if until else None,
    )


async def task_events(request: Request, who: Principal) -> dict[str, Any]:
    """The whole story of one task, oldest first."""
    query = _query(request)
    reject_unknown(query, frozenset({"limit", "next_token"}))
    store = services(request).store
    task_id = path_param(request, "task_id")
    await store.tasks.get(who, task_id)  # 404 for an unknown or foreign task
    events, has_more = await store.events.events(
        who,
        EventFilter(task_id=task_id),
        after_id=_after(query),
        limit=parse_limit(single(query, "limit")),
    )
    return _page([event_json(e) for e in events], has_more)


async def events(request: Request, who: Principal) -> dict[str, Any]:
    query = _query(request)
    reject_unknown(query, EVENT_PARAMS)
    since, until = _times(query)
    found, has_more = await services(request).store.events.events(
        who,
        EventFilter(
            task_id=single(query, "task_id"),
            actions=comma_list(query, "action"),
            actor=single(query, "actor"),
            project=single(query, "project"),
            since=since,
            until=until,
        ),
        after_id=_after(query),
        limit=parse_limit(single(query, "limit")),
    )
    return _page([event_json(e) for e in found], has_more)


async def audits(request: Request, who: Principal) -> dict[str, Any]:
    query = _query(request)
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
        after_id=_after(query),
        limit=parse_limit(single(query, "limit")),
    )
    return _page([audit_record_json(r) for r in found], has_more)
