"""The dashboard's pages under `/ui`: overview, tasks, a task, deliveries, workers.

Each page is one bounded read (see `data.py`); forms that change something
post back with the session's CSRF token and answer with a redirect (303), so
reloading a page never repeats an action.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hookline.errors import Invalid
from hookline.ingress.http import path_param
from hookline.ingress.query import check_text, parse_time
from hookline.models import Scope, TaskStatus
from hookline.ui import data
from hookline.ui.render import render
from hookline.ui.signin import Signed, error_page, login, login_form, logout, page

TASK_FILTERS = ("status", "type", "project", "batch", "tag", "created_after", "created_before")
"""The task list's form fields; `tag` is the API's `tags`, the rest keep their API names."""
_NOTICES = {"resent": "The callback is queued to be sent again."}


def _context(signed: Signed, nav: str, **values: Any) -> dict[str, Any]:
    return {"signed": signed, "nav": nav, "can_submit": signed.can(Scope.SUBMIT), **values}


def _param(request: Request, name: str) -> str:
    """A query parameter, stripped; '' when absent. NUL is refused as the API refuses it."""
    return check_text(name, request.query_params.get(name, "")).strip()


async def overview(request: Request, signed: Signed) -> Response:
    found = await data.overview(request, signed.who)
    context = _context(
        signed,
        "overview",
        overview=found,
        statuses=list(TaskStatus),
        cap=data.COUNT_CAP,
        window=data.ACTIVITY_WINDOW,
    )
    return render(request, "overview.html", context)


async def tasks(request: Request, signed: Signed) -> Response:
    """The task list; the filters are the API's, and so is the `next_token` cursor."""
    filters = {name: _param(request, name) for name in TASK_FILTERS}
    query = {("tags" if k == "tag" else k): [v] for k, v in filters.items() if v}
    token = _param(request, "next_token")
    if token:
        query["next_token"] = [token]
    given = {k: v for k, v in filters.items() if v}
    context = _context(signed, "tasks", filters=filters, statuses=list(TaskStatus))
    try:
        found = await data.task_list(request, signed.who, query)
    except Invalid as exc:
        context.update(listing=None, error=exc.message, next_url=None)
        return render(request, "tasks.html", context, 400)
    next_url = None
    if found.next_token:
        next_url = "/ui/tasks?" + urlencode({**given, "next_token": found.next_token})
    first_url = "/ui/tasks?" + urlencode(given) if token else None
    context.update(listing=found, error=None, next_url=next_url, first_url=first_url)
    return render(request, "tasks.html", context)


async def task(request: Request, signed: Signed) -> Response:
    task_id = path_param(request, "task_id")
    detail = await data.task_detail(
        request, signed.who, task_id, _param(request, "events_after") or None
    )
    context = _context(
        signed,
        "tasks",
        detail=detail,
        notice=_NOTICES.get(_param(request, "notice")),
        can_resend=signed.can(Scope.SUBMIT)
        and (bool(detail.deliveries) or bool(detail.task.callback_url)),
        events_next_url=(
            f"/ui/tasks/{quote(task_id, safe='')}?"
            + urlencode({"events_after": detail.events_next})
            if detail.events_next
            else None
        ),
    )
    return render(request, "task.html", context)


async def resend(request: Request, signed: Signed) -> Response:
    task_id = path_param(request, "task_id")
    await data.resend(request, signed.who, task_id)
    return RedirectResponse(f"/ui/tasks/{quote(task_id, safe='')}?notice=resent", 303)


async def deliveries(request: Request, signed: Signed) -> Response:
    found = await data.failed_deliveries(request, signed.who, _param(request, "next_token") or None)
    replayed = _param(request, "replayed")
    context = _context(
        signed,
        "deliveries",
        listing=found,
        replayed=int(replayed) if replayed.isdigit() and len(replayed) <= 12 else None,
        next_url=(
            "/ui/deliveries?" + urlencode({"next_token": found.next_token})
            if found.next_token
            else None
        ),
    )
    return render(request, "deliveries.html", context)


async def replay(request: Request, signed: Signed) -> Response:
    """Re-queue the failed deliveries last changed since T (and until U, if given)."""
    form = await request.form()
    since, until = form.get("since"), form.get("until")
    if not isinstance(since, str) or not since.strip():
        raise Invalid("Give the time to replay failed deliveries since")
    count = await data.replay(
        request,
        signed.who,
        parse_time("since", check_text("since", since)),
        parse_time("until", check_text("until", until))
        if isinstance(until, str) and until.strip()
        else None,
    )
    return RedirectResponse(f"/ui/deliveries?replayed={count}", 303)


async def workers(request: Request, signed: Signed) -> Response:
    found = await data.workers(request, signed.who)
    context = _context(
        signed, "workers", workers=found, window=data.LEASE_WINDOW, events=data.ACTIVITY_WINDOW
    )
    return render(request, "workers.html", context)


async def not_found(request: Request, signed: Signed) -> Response:
    return error_page(request, signed, 404, f"No dashboard page {request.url.path}")


def routes() -> list[BaseRoute]:
    """The dashboard, one mount to add to the API application's routes.

    A mount, not routes: the API's route table (and its OpenAPI document) stays the
    API's. `/ui` redirects to the overview at `/ui/`.
    """
    pages: list[BaseRoute] = [
        Route("/", page(overview), methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/tasks", page(tasks), methods=["GET"]),
        Route("/tasks/{task_id}", page(task), methods=["GET"]),
        Route("/tasks/{task_id}/resend", page(resend, scope=Scope.SUBMIT), methods=["POST"]),
        Route("/deliveries", page(deliveries), methods=["GET"]),
        Route("/deliveries/replay", page(replay, scope=Scope.SUBMIT), methods=["POST"]),
        Route("/workers", page(workers), methods=["GET"]),
        Mount("/static", StaticFiles(packages=[("hookline.ui", "static")]), name="ui_static"),
        Route("/{rest:path}", page(not_found), methods=["GET", "POST"]),
    ]
    return [Mount("/ui", routes=pages)]
