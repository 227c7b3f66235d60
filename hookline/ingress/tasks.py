"""Scale's task endpoints: create, read, list, cancel, unique_id, metadata, tags, audit."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request

from hookline.errors import IllegalOnBodyless, IllegalTransition, Invalid
from hookline.handlers.samples import sample_response
from hookline.ingress.http import path_param, query_of, read_body, read_object
from hookline.ingress.metrics import metrics_of
from hookline.ingress.query import Cursor, parse_bool, parse_task_list, reject_unknown, single
from hookline.ingress.services import services
from hookline.models import Environment, Principal, ReviewResult, TaskStatus
from hookline.serialize import task_json
from hookline.submission import (
    check_metadata,
    check_tags,
    check_unique_id,
    optional_str,
    parse_new_task,
    with_project,
)
from hookline.tags import TagMode


def _json(task: Any, who: Principal) -> dict[str, Any]:
    return task_json(task, is_test=who.environment is Environment.TEST)


async def create_task(request: Request, who: Principal) -> dict[str, Any]:
    svc = services(request)
    body = await read_body(request)
    limits = svc.settings.limits
    new = parse_new_task(
        path_param(request, "key"),
        body,
        max_tags=limits.max_tags,
        max_metadata_bytes=limits.max_metadata_bytes,
    )
    if new.project is not None or new.batch is not None:
        project, batch = await svc.store.projects.task_context(
            who, project=new.project, batch=new.batch
        )
        new = with_project(new, project, batch.project if batch else None)
    svc.validator.validate(new.type, new.params)
    # Scale's test environment completes a task in the create request.
    response = (
        sample_response(new.type, new.params) if who.environment is Environment.TEST else None
    )
    task = await svc.store.tasks.create(who, new, completed_response=response)
    metrics = metrics_of(request)
    metrics.task_created(task.type, who.environment.value)
    if task.status is not TaskStatus.PENDING and response is None:
        # Completed in its create by this process's dispatcher (store.signals.Inline):
        # claimed at once, and run in microseconds.
        metrics.tasks_claimed([task])
        metrics.task_settled(task, run_s=0.0)
    elif task.status is not TaskStatus.PENDING:
        metrics.task_finished(task.type, task.status.value)
    return _json(task, who)


MAX_WAIT_S = 60.0
_RECHECK_S = 1.0


async def get_task(request: Request, who: Principal) -> dict[str, Any]:
    """One task; with `?wait_s=N` (N ≤ 60), wait until it leaves pending or N seconds pass.

    The wait holds no database connection: it sleeps on an in-process signal
    and re-reads the task at least every second (changes made by other
    processes are seen that way).
    """
    query = query_of(request)
    reject_unknown(query, frozenset({"wait_s"}))
    wait_s = _wait_s(single(query, "wait_s"))
    store = services(request).store
    task_id = path_param(request, "key")
    deadline = time.monotonic() + wait_s
    with store.signals.watch(task_id) as changed:
        while True:
            changed.clear()
            task = await store.tasks.get(who, task_id)
            remaining = deadline - time.monotonic()
            if task.status is not TaskStatus.PENDING or remaining <= 0:
                return _json(task, who)
            try:
                async with asyncio.timeout(min(remaining, _RECHECK_S)):
                    await changed.wait()
            except TimeoutError:
                pass


def _wait_s(raw: str | None) -> float:
    if raw is None:
        return 0.0
    try:
        value = float(raw)
    except ValueError as exc:
        raise Invalid(f"Parameter 'wait_s' must be a number of seconds, got {raw!r}") from exc
    if not 0 <= value <= MAX_WAIT_S:
        raise Invalid(f"Parameter 'wait_s' must be between 0 and {MAX_WAIT_S:g}")
    return value


async def list_tasks(request: Request, who: Principal) -> dict[str, Any]:
    query = query_of(request)
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
    raw = single(query_of(request), "clear_unique_id")
    clear = parse_bool("clear_unique_id", raw) if raw is not None else False
    try:
        task = await services(request).store.operations.cancel(
            who, path_param(request, "task_id"), clear_unique_id=clear
        )
    except IllegalTransition as exc:
        raise IllegalOnBodyless(exc.message) from exc  # the client cannot read a 409 here
    metrics_of(request).task_finished(task.type, task.status.value)
    return _json(task, who)


async def set_unique_id(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request)
    if "unique_id" not in body:
        raise Invalid("Missing required field 'unique_id'")
    unique_id = check_unique_id(body["unique_id"])
    task = await services(request).store.operations.set_unique_id(
        who, path_param(request, "task_id"), unique_id
    )
    return _json(task, who)


async def clear_unique_id(request: Request, who: Principal) -> dict[str, Any]:
    task = await services(request).store.operations.set_unique_id(
        who, path_param(request, "task_id"), None
    )
    return _json(task, who)


async def set_metadata(request: Request, who: Principal) -> dict[str, Any]:
    svc = services(request)
    metadata = check_metadata(
        await read_object(request), max_bytes=svc.settings.limits.max_metadata_bytes
    )
    task = await svc.store.operations.set_metadata(who, path_param(request, "task_id"), metadata)
    return _json(task, who)


_TAG_MODES = {"POST": TagMode.SET, "PUT": TagMode.ADD, "DELETE": TagMode.DELETE}


async def change_tags(request: Request, who: Principal) -> dict[str, Any]:
    """POST sets, PUT adds (ignoring present ones), DELETE removes (ignoring absent ones)."""
    svc = services(request)
    body = await read_body(request)
    max_tags = svc.settings.limits.max_tags
    # Deleting checks only the shape; the count limit applies to what remains.
    tags = check_tags(body, max_tags=max_tags if request.method == "POST" else 10_000, key="body")
    task = await svc.store.operations.change_tags(
        who,
        path_param(request, "task_id"),
        mode=_TAG_MODES[request.method],
        tags=tags,
        max_tags=max_tags,
    )
    return _json(task, who)


MAX_AUDIT_TIME_S = 7 * 24 * 3600


async def audit_task(request: Request, who: Principal) -> dict[str, Any]:
    """A customer's `{"accepted": bool}` (Scale's), or a reviewer's `{"result": ...}`.

    A reviewer's result is accepted, fixed or rejected; `fixed` may carry the
    corrected `response`, and `audit_time_secs` says how long the review took.
    """
    body = await read_object(request)
    comments = optional_str(body, "comments")
    if "result" in body:
        try:
            result = ReviewResult(body["result"])
        except ValueError as exc:
            raise Invalid("Field 'result' must be one of accepted, fixed, rejected") from exc
        seconds = body.get("audit_time_secs")
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds <= MAX_AUDIT_TIME_S
        ):
            raise Invalid(
                f"Field 'audit_time_secs' must be a number of seconds from 0 to {MAX_AUDIT_TIME_S}"
                " (one week)"
            )
        if "response" in body and result is not ReviewResult.FIXED:
            raise Invalid("Only a 'fixed' review may carry a corrected 'response'")
        if "response" in body and body["response"] is None:
            raise Invalid("Field 'response' must be the corrected response, not null")
        task = await services(request).store.operations.audit(
            who,
            path_param(request, "task_id"),
            result=result,
            comments=comments,
            source="reviewer",
            audit_time_secs=seconds,
            fixed_response=body.get("response"),
        )
        return _json(task, who)
    accepted = body.get("accepted")
    if not isinstance(accepted, bool):
        raise Invalid("Field 'accepted' is required and must be true or false")
    task = await services(request).store.operations.audit(
        who,
        path_param(request, "task_id"),
        result=ReviewResult.ACCEPTED if accepted else ReviewResult.REJECTED,
        comments=comments,
    )
    return _json(task, who)
