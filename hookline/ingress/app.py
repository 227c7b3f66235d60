"""The Starlette application: the route table, authentication and error handling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hookline.config import Settings
from hookline.errors import HooklineError
from hookline.ingress import callbacks, catalog, files, ratelimits, tasks, trail, work
from hookline.ingress.auth import Authenticator, require_scope
from hookline.ingress.contract import contract_for
from hookline.ingress.docs import docs_routes, operations_paths
from hookline.ingress.http import (
    JSONResponse,
    handle_hookline_error,
    handle_http_exception,
    handle_unexpected,
    query_of,
    read_body,
)
from hookline.ingress.metrics import RequestMetrics, app_metrics, metrics_route
from hookline.ingress.middleware import BodyLimit, RawPathRouting, RequestContext
from hookline.ingress.openapi import openapi_document
from hookline.ingress.query import TASK_LIST_PARAMS, Query, reject_unknown
from hookline.ingress.services import Services
from hookline.ingress.validation import check_body, check_query
from hookline.metrics import Metrics
from hookline.models import Principal, Scope
from hookline.schemas import ParamValidator
from hookline.store import Store
from hookline.ui.routes import routes as ui_routes

Handler = Callable[[Request, Principal], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Api:
    """One endpoint of the v1 API: what it does, who may call it, what it takes."""

    method: str
    path: str
    handler: Handler
    summary: str
    scope: Scope | None = None
    body: str | None = None
    """None, "object", "array" or "multipart"."""
    name: str | None = None
    params: tuple[str, ...] = ()


S, W, A = Scope.SUBMIT, Scope.WORK, Scope.AUDIT

API: tuple[Api, ...] = (
    Api("POST", "/v1/task/{key}", tasks.create_task, "Create a task of the type in the path", S, "object"),
    Api("GET", "/v1/task/{key}", tasks.get_task, "Get a task; ?wait_s=N waits until it leaves pending", params=("wait_s",)),
    Api("GET", "/v1/tasks", tasks.list_tasks, "List tasks, newest first", params=tuple(sorted(TASK_LIST_PARAMS))),
    Api("POST", "/v1/task/{task_id}/cancel", tasks.cancel_task, "Cancel a pending task", S, params=("clear_unique_id",)),
    Api("POST", "/v1/task/{task_id}/unique_id", tasks.set_unique_id, "Set a task's unique_id", S, "object"),
    Api("DELETE", "/v1/task/{task_id}/unique_id", tasks.clear_unique_id, "Clear a task's unique_id", S),
    Api("POST", "/v1/task/{task_id}/setMetadata", tasks.set_metadata, "Replace a task's metadata", S, "object"),
    Api("POST", "/v1/task/{task_id}/tags", tasks.change_tags, "Set a task's tags", S, "array"),
    Api("PUT", "/v1/task/{task_id}/tags", tasks.change_tags, "Add tags to a task", S, "array"),
    Api("DELETE", "/v1/task/{task_id}/tags", tasks.change_tags, "Delete tags from a task", S, "array"),
    Api("POST", "/v1/task/{task_id}/audit", tasks.audit_task, "Accept or reject a completed task", A, "object"),
    Api("POST", "/v1/projects", catalog.create_project, "Create a project", S, "object"),
    Api("GET", "/v1/projects", catalog.list_projects, "List projects (a JSON array)"),
    Api("GET", "/v1/projects/{name}", catalog.get_project, "Get a project"),
    Api("POST", "/v1/projects/{name}/setParams", catalog.set_project_params, "Set a project's params (a new version)", S, "object"),
    Api("POST", "/v1/batches", catalog.create_batch, "Create a batch", S, "object"),
    Api("GET", "/v1/batches", catalog.list_batches, "List batches", params=tuple(sorted(catalog.BATCH_LIST_PARAMS))),
    Api("GET", "/v1/batches/{name}", catalog.get_batch, "Get a batch"),
    Api("POST", "/v1/batches/{name}/finalize", catalog.finalize_batch, "Finalize a batch", S),
    Api("GET", "/v1/batches/{name}/status", catalog.batch_status, "Count a batch's tasks by status"),
    Api("POST", "/v1/batches/{name}/setMetadata", catalog.set_batch_metadata, "Replace a batch's metadata", S, "object"),
    Api("POST", "/v1/files/upload", files.upload_file, "Upload an attachment", S, "multipart"),
    Api("POST", "/v1/files/import", files.import_file, "Record an attachment by URL", S, "object"),
    Api("GET", "/v1/files/{file_id}", files.get_file, "Download an uploaded attachment", name="get_file"),
    Api("GET", "/v1/teams", files.list_teammates, "List the account's members and roles"),
    Api("POST", "/v1/work/claim", work.claim, "Claim one task with a lease ({task: null} when none)", W, "object"),
    Api("POST", "/v1/task/{task_id}/heartbeat", work.heartbeat, "Extend the lease on a task", W, "object"),
    Api("POST", "/v1/task/{task_id}/complete", work.complete, "Complete a leased task", W, "object"),
    Api("POST", "/v1/task/{task_id}/fail", work.fail, "Fail a leased task (retry or error)", W, "object"),
    Api("POST", "/v1/task/{task_id}/redo", work.redo, "Send a completed task back to pending", S, "object"),
    Api("POST", "/v1/task/{task_id}/retry", work.retry, "Send an errored task back to pending", S, "object"),
    Api("GET", "/v1/task/{task_id}/events", trail.task_events, "A task's audit trail, oldest first", params=("limit", "next_token")),
    Api("GET", "/v1/events", trail.events, "Audit-trail events, filtered", params=tuple(sorted(trail.EVENT_PARAMS))),
    Api("GET", "/v1/audits", trail.audits, "Reviews, filtered", params=tuple(sorted(trail.AUDIT_PARAMS))),
    Api("GET", "/v1/account", callbacks.show_account, "The callback auth key and webhook secret of the key's environment", Scope.ADMIN),
    Api("POST", "/v1/account/rotate_webhook_secret", callbacks.rotate_webhook_secret, "Rotate the webhook secret of the key's environment (the old one signs too during a grace period)", Scope.ADMIN),
    Api("GET", "/v1/task/{task_id}/callbacks", callbacks.task_callbacks, "A task's callback deliveries and every attempt"),
    Api("POST", "/v1/task/{task_id}/callbacks/resend", callbacks.resend, "Send a task's callback again now", S),
    Api("POST", "/v1/callbacks/replay", callbacks.replay, "Re-queue failed deliveries in bulk", S, "object"),
)  # fmt: skip


def _routes(apis: tuple[Api, ...]) -> list[Route]:
    """One route per path, so that a 405 lists every method the path allows."""
    by_path: dict[str, dict[str, Api]] = {}
    for api in apis:
        by_path.setdefault(api.path, {})[api.method] = api
    fixed = {path: sorted(methods) for path, methods in by_path.items() if "{" not in path}
    return [_route(path, by_method, fixed) for path, by_method in by_path.items()]


def _route(path: str, by_method: dict[str, Api], fixed: dict[str, list[str]]) -> Route:
    async def endpoint(request: Request) -> Response:
        if "{" in path and request.scope["path"] in fixed:
            # `GET /v1/files/upload` matches `/v1/files/{file_id}` too: the fixed path wins.
            raise HTTPException(405, headers={"Allow": ", ".join(fixed[request.scope["path"]])})
        api = by_method[request.method if request.method != "HEAD" else "GET"]
        authenticate: Authenticator = request.app.state.authenticate
        who = await authenticate(request.headers.get("authorization"))
        key_limits: ratelimits.KeyLimits = request.app.state.key_limits
        key_limits.check(who, api.scope)
        require_scope(who, api.scope)
        # Every value from the query string is checked here once; handlers parse their own.
        query = query_of(request)
        reject_unknown(query, frozenset(api.params))
        await _check(request, api, query)
        result = await api.handler(request, who)
        return result if isinstance(result, Response) else JSONResponse(result)

    names = [api.name for api in by_method.values() if api.name]
    return Route(path, endpoint, methods=list(by_method), name=names[0] if names else None)


async def _check(request: Request, api: Api, query: Query) -> None:
    """Check the request against the endpoint's contract, the one `/v1/openapi.json` publishes."""
    contract = contract_for(api.method, api.path)
    check_query(contract, query)
    if api.body in ("object", "array"):
        body = await read_body(request)
        # Only JSON's own whitespace makes an empty body; a form feed is a bad one.
        check_body(contract, body, given=bool((await request.body()).strip(b" \t\r\n")))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services_: Services = request.app.state.services
    await services_.store.ping()
    return JSONResponse({"status": "ok", "database": services_.store.dialect})


EXCEPTION_HANDLERS = {
    HooklineError: handle_hookline_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}


def create_health_app(
    *, store: Store, settings: Settings, metrics: Metrics | None = None
) -> Starlette:
    """`/healthz`, `/readyz` and `/metrics`: what a worker process serves to its orchestrator."""
    metrics = metrics or app_metrics(store, settings)
    authenticate = Authenticator(store.accounts.authenticate)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            metrics_route(metrics, settings.metrics, authenticate),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.services = Services(
        store=store,
        settings=settings,
        validator=ParamValidator(),
        files_dir=Path(settings.files.dir),
    )
    return app


def create_app(*, store: Store, settings: Settings, metrics: Metrics | None = None) -> Starlette:
    """The ASGI application; the caller owns the store and closes it.

    `metrics` is shared with the process's dispatcher and sender; left out, the app has its own.
    """
    metrics = metrics or app_metrics(store, settings)
    authenticate = Authenticator(store.accounts.authenticate)
    validator = ParamValidator(
        {name: dict(t.params_schema) for name, t in settings.types.items() if t.params_schema}
    )
    document = openapi_document(API, max_tags=settings.limits.max_tags)
    document["paths"] |= operations_paths(metrics_require_key=settings.metrics.require_key)

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/v1/openapi.json", openapi, methods=["GET"]),
        metrics_route(metrics, settings.metrics, authenticate),
        *docs_routes(),
        *_routes(API),
        *ui_routes(),  # the dashboard (hookline/ui)
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RawPathRouting),
            Middleware(RequestContext, observe=RequestMetrics(metrics, routes)),
            *ratelimits.middleware(settings.rate_limits),
            Middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.services = Services(
        store=store,
        settings=settings,
        validator=validator,
        files_dir=Path(settings.files.dir),
    )
    app.state.authenticate = authenticate
    app.state.metrics = metrics
    app.state.key_limits = ratelimits.KeyLimits(settings.rate_limits)
    return app
