"""Scale's project and batch endpoints."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hookline.errors import Invalid
from hookline.ingress.http import path_param, query_of, read_object
from hookline.ingress.query import (
    parse_bool,
    parse_limit,
    parse_offset,
    parse_time,
    reject_unknown,
    single,
)
from hookline.ingress.services import services
from hookline.models import BatchStatus, Principal
from hookline.serialize import batch_json, project_json
from hookline.submission import (
    MAX_NAME_LENGTH,
    check_callback_url,
    check_metadata,
    optional_object,
    optional_str,
    required_str,
)

BATCH_LIST_PARAMS = frozenset(
    {"start_time", "end_time", "exclude_archived", "status", "project", "limit", "offset"}
)


def _name(request: Request) -> str:
    name = path_param(request, "name")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise Invalid(f"Names are 1 to {MAX_NAME_LENGTH} characters long")
    return name


def _is_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain and "/" not in value and " " not in value)


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Invalid(f"Field {key!r} must be true or false")
    return value


async def create_project(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request)
    project = await services(request).store.projects.create_project(
        who,
        name=required_str(body, "name", max_length=MAX_NAME_LENGTH),
        type=required_str(body, "type", max_length=100),
        params=optional_object(body, "params") or {},
    )
    return project_json(project)


async def get_project(request: Request, who: Principal) -> dict[str, Any]:
    return project_json(await services(request).store.projects.get_project(who, _name(request)))


async def list_projects(request: Request, who: Principal) -> list[dict[str, Any]]:
    return [project_json(p) for p in await services(request).store.projects.list_projects(who)]


async def set_project_params(request: Request, who: Principal) -> dict[str, Any]:
    """The body is the params; they are merged over the current version into a new one."""
    body = await read_object(request)
    project = await services(request).store.projects.set_project_params(who, _name(request), body)
    return project_json(project)


async def create_batch(request: Request, who: Principal) -> dict[str, Any]:
    body = await read_object(request)
    callback = optional_str(body, "callback") or None
    # Scale also accepts an email address to notify; anything else must be a URL.
    if callback is not None and not _is_email(callback):
        callback = check_callback_url(callback, "callback")
    batch = await services(request).store.batches.create_batch(
        who,
        name=required_str(body, "name", max_length=MAX_NAME_LENGTH),
        project=required_str(body, "project", max_length=MAX_NAME_LENGTH),
        callback=callback,
        metadata=check_metadata(
            optional_object(body, "metadata") or {},
            max_bytes=services(request).settings.limits.max_metadata_bytes,
        ),
        calibration_batch=_flag(body, "calibration_batch"),
        self_label_batch=_flag(body, "self_label_batch"),
    )
    return batch_json(batch)


async def get_batch(request: Request, who: Principal) -> dict[str, Any]:
    return batch_json(await services(request).store.batches.get_batch(who, _name(request)))


async def list_batches(request: Request, who: Principal) -> dict[str, Any]:
    query = query_of(request)
    reject_unknown(query, BATCH_LIST_PARAMS)
    status = single(query, "status")
    try:
        batch_status = BatchStatus(status) if status else None
    except ValueError as exc:
        raise Invalid(
            f"Parameter 'status' must be one of {', '.join(s.value for s in BatchStatus)}"
        ) from exc
    start, end, archived = (
        single(query, n) for n in ("start_time", "end_time", "exclude_archived")
    )
    if archived is not None:
        parse_bool("exclude_archived", archived)  # nothing is archived here
    limit = parse_limit(single(query, "limit"))
    offset = parse_offset(single(query, "offset"))
    docs, total = await services(request).store.batches.list_batches(
        who,
        project=single(query, "project"),
        status=batch_status,
        created_after=parse_time("start_time", start) if start else None,
        created_before=parse_time("end_time", end) if end else None,
        limit=limit,
        offset=offset,
    )
    return {
        "docs": [batch_json(b) for b in docs],
        "totalDocs": total,
        "limit": limit,
        "offset": offset,
        "has_more": offset + len(docs) < total,
    }


async def finalize_batch(request: Request, who: Principal) -> dict[str, Any]:
    return batch_json(await services(request).store.batches.finalize_batch(who, _name(request)))


async def batch_status(request: Request, who: Principal) -> dict[str, Any]:
    batch, counts = await services(request).store.batches.batch_counts(who, _name(request))
    return {"status": batch.status.value, **counts}


async def set_batch_metadata(request: Request, who: Principal) -> dict[str, Any]:
    svc = services(request)
    metadata = check_metadata(
        await read_object(request), max_bytes=svc.settings.limits.max_metadata_bytes
    )
    batch = await svc.store.batches.set_batch_metadata(who, _name(request), metadata)
    return batch_json(batch)
