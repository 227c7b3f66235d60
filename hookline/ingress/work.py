"""The worker API: claim, heartbeat, complete, fail; and redo/retry for submitters."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hookline.errors import Invalid
from hookline.ingress.http import path_param, read_object
from hookline.ingress.metrics import metrics_of
from hookline.ingress.services import services
from hookline.models import Environment, Principal, Task, TaskStatus
from hookline.serialize import lease_json, task_json
from hookline.submission import optional_str, required_str

MAX_LEASE_S = 24 * 3600
DEFAULT_LEASE_S = 300


def _worker(body: dict[str, Any]) -> str:
    return required_str(body, "worker", max_length=200)


def _lease_s(body: dict[str, Any]) -> float:
    value = body.get("lease_s", DEFAULT_LEASE_S)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 1 <= value <= MAX_LEASE_S
    ):
        raise Invalid(f"Field 'lease_s' must be a number of seconds from 1 to {MAX_LEASE_S}")
    return float(value)


def _json(task: Task, who: Principal) -> dict[str, Any]:
    return task_json(task, is_test=who.environment is Environment.TEST) | {
        "lease": lease_json(task)
    }


async def claim(request: Request, who: Principal) -> dict[str, Any]:
    """`{"task": …}` with its lease, or `{"task": null}` when nothing is claimable (always 200)."""
    body = await read_object(request)
    types = body.get("types")
    if types is not None and (
        not isinstance(types, list) or not all(isinstance(t, str) and t for t in types)
    ):
        raise Invalid("Field 'types' must be an array of task type names")
    worker = _worker(body)
    claimed = await services(request).store.work.claim(
        worker=worker,
        lease_s=_lease_s(body),
        limit=1,
        types=types or None,
        principal=who,
        actor=worker,
    )
    metrics_of(request).tasks_claimed(claimed)
    return {"task": _json(claimed[0], who) if claimed else None}


async def heartbeat(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request)
    task = await services(request).store.work.heartbeat(
        who, path_param(request, "task_id"), worker=_worker(body), lease_s=_lease_s(body)
    )
    return _json(task, who)


async def complete(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request)
    if body.get("response") is None:
        raise Invalid("Missing required field 'response' (the task's result, as JSON)")
    task = await services(request).store.work.complete(
        who, path_param(request, "task_id"), worker=_worker(body), response=body["response"]
    )
    metrics_of(request).task_finished(task.type, task.status.value)
    return _json(task, who)


async def fail(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request)
    retry = body.get("retry", False)
    if not isinstance(retry, bool):
        raise Invalid("Field 'retry' must be true or false")
    task = await services(request).store.work.fail(
        who,
        path_param(request, "task_id"),
        worker=_worker(body),
        error=required_str(body, "error", max_length=10_000),
        retry=retry,
    )
    if task.status is not TaskStatus.PENDING:
        metrics_of(request).task_finished(task.type, task.status.value)
    return _json(task, who)


async def redo(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request, required=False)
    task = await services(request).store.operations.redo(
        who, path_param(request, "task_id"), reason=optional_str(body, "reason")
    )
    return _json(task, who)


async def retry(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request, required=False)
    task = await services(request).store.operations.retry(
        who, path_param(request, "task_id"), reason=optional_str(body, "reason")
    )
    return _json(task, who)
