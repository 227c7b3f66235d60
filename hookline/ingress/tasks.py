"""Scale's task endpoints: create, read, list, cancel, unique_id, metadata, tags, audit."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hookline.errors import Invalid
from hookline.handlers.samples import sample_response
from hookline.ingress.http import path_param, read_body, read_object
from hookline.ingress.query import Cursor, parse_bool, parse_task_list
from hookline.ingress.services import services
from hookline.models import Environment, Principal, ReviewResult
from hookline.serialize import task_json
from hookline.submission import (
    check_tags,
    check_unique_id,
    optional_str,
    parse_new_task,
    with_project,
)


def _json(task: Any, who: Principal) -> dict[str, Any]:
    return task_json(task, is_test=who.environment is Environment.TEST)


async def create_task(request: Request, who: Principal) -> dict[str, Any]:
    svc = services(request)
    body = await read_body(request)
    new = parse_new_task(path_param(request, "key"), body, max_tags=svc.settings.limits.max_tags)
    if new.project is not None or new.batch is not None:
        project, batch = await svc.store.catalog.task_context(
            who, project=new.project, batch=new.batch
        )
        new = with_project(new, project, batch.project if batch else None)
    svc.validator.validate(new.type, new.params)
    # Scale's test environment completes a task in the create request.
    response = (
        sample_response(new.type, new.params) if who.environment is Environment.TEST else None
    )
    task = await svc.store.tasks.create(who, new, completed_response=response)
    return _json(task, who)


async def get_task(request: Request, who: Principal) -> dict[str, Any]:
    if request.query_params:
        unknown = sorted(request.query_params)
        raise Invalid(f"Unknown parameter {unknown[0]!r}")
    task = await services(request).store.tasks.get(who, path_param(request, "key"))
    return _json(task, who)


async def list_tasks(request: Request, who: Principal) -> dict[str, Any]:
    query = {key: request.query_params.getlist(key) for key in request.query_params}
    parsed = parse_task_list(query)
    page = await services(request).store.tasks.page(
        who,
        parsed.filter,
        limit=parsed.limit,
        before_id=parsed.cursor.before_id if parsed.cursor else None,
        with_audits=not parsed.limited_response,
    )
    offset = parsed.cursor.offset if parsed.cursor else 0
    next_token = None
    if page.has_more and page.last_id is not None:
        next_token = Cursor(page.last_id, offset + len(page.docs)).encode()
    is_test = who.environment is Environment.TEST
    return {
        "docs": [task_json(t, is_test=is_test, limited=parsed.limited_response) for t in page.docs],
        "total": page.total,
        "limit": parsed.limit,
        "offset": offset,
        "has_more": page.has_more,
        "next_token": next_token,
    }


async def cancel_task(request: Request, who: Principal) -> dict[str, Any]:
    raw = request.query_params.get("clear_unique_id")
    clear = parse_bool("clear_unique_id", raw) if raw is not None else False
    task = await services(request).store.tasks.cancel(
        who, path_param(request, "task_id"), clear_unique_id=clear
    )
    return _json(task, who)


async def set_unique_id(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request)
    if "unique_id" not in body:
        raise Invalid("Missing required field 'unique_id'")
    unique_id = check_unique_id(body["unique_id"])
    task = await services(request).store.tasks.set_unique_id(
        who, path_param(request, "task_id"), unique_id
    )
    return _json(task, who)


async def clear_unique_id(request: Request, who: Principal) -> dict[str, Any]:
    task = await services(request).store.tasks.set_unique_id(
        who, path_param(request, "task_id"), None
    )
    return _json(task, who)


async def set_metadata(request: Request, who: Principal) -> dict[str, Any]:
    metadata = await read_object(request)
    task = await services(request).store.tasks.set_metadata(
        who, path_param(request, "task_id"), metadata
    )
    return _json(task, who)


_TAG_MODES = {"POST": "set", "PUT": "add", "DELETE": "delete"}


async def change_tags(request: Request, who: Principal) -> dict[str, Any]:
    """POST sets, PUT adds (ignoring present ones), DELETE removes (ignoring absent ones)."""
    svc = services(request)
    body = await read_body(request)
    max_tags = svc.settings.limits.max_tags
    # Deleting checks only the shape; the count limit applies to what remains.
    tags = check_tags(body, max_tags=max_tags if request.method == "POST" else 10_000, key="body")
    task = await svc.store.tasks.change_tags(
        who,
        path_param(request, "task_id"),
        mode=_TAG_MODES[request.method],
        tags=tags,
        max_tags=max_tags,
    )
    return _json(task, who)


async def audit_task(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request)
    accepted = body.get("accepted")
    if not isinstance(accepted, bool):
        raise Invalid("Field 'accepted' is required and must be true or false")
    task = await services(request).store.tasks.audit(
        who,
        path_param(request, "task_id"),
        result=ReviewResult.ACCEPTED if accepted else ReviewResult.REJECTED,
        comments=optional_str(body, "comments"),
    )
    return _json(task, who)
