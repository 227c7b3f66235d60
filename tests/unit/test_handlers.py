"""Built-in handlers: echo, python targets, and http workers served for real on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hookline.config import HandlerSettings
from hookline.handlers.base import echo
from hookline.handlers.http import HttpHandler
from hookline.handlers.python import ENTRY_POINT_GROUP, PythonHandler, load_target
from hookline.handlers.registry import build_handlers
from hookline.models import Completed, Failed, Task, TaskStatus
from hookline.serialize import task_json
from tests.unit import handler_fixtures

FIXTURES = "tests.unit.handler_fixtures"
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def task_factory(**overrides: Any) -> Task:
    """A pending task; keyword arguments replace any field."""
    values: dict[str, Any] = {
        "id": "task_0123456789abcdef",
        "type": "sentiment",
        "status": TaskStatus.PENDING,
        "instruction": "Is this positive?",
        "params": {"text": "lovely day", "choices": ["yes", "no"]},
        "response": None,
        "error": None,
        "metadata": {"source": "unit"},
        "tags": None,
        "unique_id": None,
        "project": None,
        "batch": None,
        "callback_url": None,
        "callback_completed": False,
        "times_redone": 0,
        "priority": None,
        "customer_review_status": None,
        "created_at": NOW,
        "updated_at": NOW,
        "completed_at": None,
    }
    values.update(overrides)
    return Task(**values)


# --- echo -------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"text": "hi", "n": [1, 2]}, id="params"),
        pytest.param({}, id="empty"),
    ],
)
async def test_echo_completes_with_the_params(params: dict[str, Any]) -> None:
    """echo completes at once with {"echo": params}."""
    outcome = await echo(task_factory(params=params))

    assert outcome == Completed(response={"echo": params})


# --- python: load_target ----------------------------------------------------


def test_load_target_loads_an_async_function() -> None:
    """module:function names an async function, which is returned as is."""
    assert load_target(f"{FIXTURES}:answer") is handler_fixtures.answer


@pytest.mark.parametrize(
    ("target", "detail"),
    [
        pytest.param("hookline_no_such_module_xyz:run", "No module named", id="missing-module"),
        pytest.param(f"{FIXTURES}:no_such_function", "no attribute", id="missing-attribute"),
        pytest.param(f"{FIXTURES}:", "module:function", id="empty-attribute"),
        pytest.param(f"{FIXTURES}:not_async", "must be an async function", id="sync-function"),
        pytest.param("json:dumps", "must be an async function", id="sync-library-function"),
        pytest.param("hookline-no-such-entry-point", ENTRY_POINT_GROUP, id="unknown-entry-point"),
    ],
)
def test_load_target_errors_name_the_target(target: str, detail: str) -> None:
    """A target that cannot be used is a ValueError naming it and saying why."""
    with pytest.raises(ValueError, match=re.escape(repr(target))) as raised:
        load_target(target)

    assert detail in str(raised.value)


def test_load_target_with_empty_module_names_the_target() -> None:
    """A target with no module part is a ValueError naming the target."""
    with pytest.raises(ValueError, match=re.escape("':answer'")):
        load_target(":answer")


def test_load_target_with_a_module_that_fails_to_import_names_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that raises on import is a ValueError naming the target."""
    (tmp_path / "hookline_broken_plugin_xyz.py").write_text(
        'raise RuntimeError("missing MODEL_PATH")\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "hookline_broken_plugin_xyz", raising=False)

    with pytest.raises(ValueError, match="hookline_broken_plugin_xyz:run"):
        load_target("hookline_broken_plugin_xyz:run")


@pytest.fixture
def entry_points_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed distribution declaring entry points in group hookline.handlers."""
    dist = tmp_path / "hookline_test_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hookline-test-plugins\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n"
        f"hookline-test-answer = {FIXTURES}:answer\n"
        f"hookline-test-plain = {FIXTURES}:not_async\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.usefixtures("entry_points_dist")
def test_load_target_loads_an_entry_point_by_name() -> None:
    """A bare name loads the entry point of that name in group hookline.handlers."""
    assert load_target("hookline-test-answer") is handler_fixtures.answer


@pytest.mark.usefixtures("entry_points_dist")
def test_load_target_refuses_an_entry_point_to_a_sync_function() -> None:
    """An entry point that resolves to a plain function is a ValueError naming it."""
    with pytest.raises(ValueError, match=r"'hookline-test-plain' must be an async function"):
        load_target("hookline-test-plain")


# --- python: PythonHandler --------------------------------------------------


async def test_python_handler_completes_with_the_return_value() -> None:
    """The target gets the task as its JSON object and its return value is the response."""
    task = task_factory()
    handler = PythonHandler(load_target(f"{FIXTURES}:answer"))

    outcome = await handler(task)

    assert outcome == Completed(
        response={"seen": task.id, "params": task.params, "status": "pending"}
    )


@pytest.mark.parametrize(
    ("name", "error"),
    [
        pytest.param("give_up", "cannot label task_0123456789abcdef", id="with-message"),
        pytest.param("give_up_silently", "PermanentFailure", id="without-message"),
    ],
)
async def test_python_handler_permanent_failure_is_not_retryable(name: str, error: str) -> None:
    """PermanentFailure is a failure that is not retried, with its message as the error."""
    handler = PythonHandler(load_target(f"{FIXTURES}:{name}"))

    outcome = await handler(task_factory())

    assert outcome == Failed(error=error, retryable=False)


async def test_python_handler_other_exception_is_retryable() -> None:
    """Any other exception is a retryable failure naming the exception type."""
    handler = PythonHandler(load_target(f"{FIXTURES}:crash"))

    outcome = await handler(task_factory())

    assert outcome == Failed(error="RuntimeError: model server is warming up", retryable=True)


# --- http -------------------------------------------------------------------


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@asynccontextmanager
async def worker(routes: dict[str, Route]) -> AsyncIterator[str]:
    """Serve `routes` on 127.0.0.1 at a free port; yields the base URL."""
    app = web.Application()
    for path, route in routes.items():
        app.router.add_route("*", path, route)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        assert host == "127.0.0.1"
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_http_2xx_json_completes_and_sends_the_task_json(
    session: aiohttp.ClientSession,
) -> None:
    """A 200 JSON answer is the response; the worker gets the task JSON as application/json."""
    received: list[tuple[str, str | None, Any]] = []

    async def work(request: web.Request) -> web.Response:
        received.append(
            (request.content_type, request.headers.get("x-hookline-task-id"), await request.json())
        )
        return web.json_response({"category": "positive", "confidence": 0.9})

    task = task_factory()
    async with worker({"/work": work}) as base:
        outcome = await HttpHandler(session, f"{base}/work", timeout_s=5)(task)

    assert outcome == Completed(response={"category": "positive", "confidence": 0.9})
    [(content_type, task_id_header, body)] = received
    assert content_type == "application/json"
    assert task_id_header == task.id
    assert body["task_id"] == task.id
    assert body == json.loads(json.dumps(task_json(task)))


async def test_http_201_json_completes(session: aiohttp.ClientSession) -> None:
    """Any 2xx status with a JSON body completes the task."""

    async def work(request: web.Request) -> web.Response:
        return web.json_response(["a", "b"], status=201)

    async with worker({"/work": work}) as base:
        outcome = await HttpHandler(session, f"{base}/work", timeout_s=5)(task_factory())

    assert outcome == Completed(response=["a", "b"])


async def test_http_200_without_json_is_a_retryable_failure(
    session: aiohttp.ClientSession,
) -> None:
    """A 200 answer whose body is not JSON is a failure that may be retried."""

    async def work(request: web.Request) -> web.Response:
        return web.Response(text="<html>ok</html>", content_type="text/html")

    async with worker({"/work": work}) as base:
        outcome = await HttpHandler(session, f"{base}/work", timeout_s=5)(task_factory())

    assert isinstance(outcome, Failed)
    assert outcome.retryable is True
    assert "200" in outcome.error
    assert "JSON" in outcome.error


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        pytest.param(400, False, id="400"),
        pytest.param(404, False, id="404"),
        pytest.param(422, False, id="422"),
        pytest.param(408, True, id="408"),
        pytest.param(429, True, id="429"),
        pytest.param(500, True, id="500"),
        pytest.param(503, True, id="503"),
    ],
)
async def test_http_error_status_decides_whether_to_retry(
    session: aiohttp.ClientSession, status: int, retryable: bool
) -> None:
    """4xx answers are final (except 408 and 429); 5xx answers are retried."""

    async def work(request: web.Request) -> web.Response:
        return web.Response(status=status, text="worker says no")

    async with worker({"/work": work}) as base:
        outcome = await HttpHandler(session, f"{base}/work", timeout_s=5)(task_factory())

    assert isinstance(outcome, Failed)
    assert outcome.retryable is retryable
    assert str(status) in outcome.error
    assert "worker says no" in outcome.error


async def test_http_error_quotes_only_the_start_of_a_long_body(
    session: aiohttp.ClientSession,
) -> None:
    """The error quotes at most 200 bytes of the worker's answer."""

    async def work(request: web.Request) -> web.Response:
        return web.Response(status=400, text="x" * 10_000)

    async with worker({"/work": work}) as base:
        outcome = await HttpHandler(session, f"{base}/work", timeout_s=5)(task_factory())

    assert isinstance(outcome, Failed)
    assert "x" * 200 in outcome.error
    assert "x" * 201 not in outcome.error


async def test_http_slow_worker_times_out_and_is_retryable(
    session: aiohttp.ClientSession,
) -> None:
    """A worker slower than timeout_s is a retryable failure that says it timed out."""
    release = asyncio.Event()

    async def work(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"late": True})

    async with worker({"/work": work}) as base:
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            outcome = await HttpHandler(session, f"{base}/work", timeout_s=0.2)(task_factory())
            elapsed = loop.time() - started
        finally:
            release.set()

    assert isinstance(outcome, Failed)
    assert outcome.retryable is True
    assert "timed out" in outcome.error
    assert elapsed < 2.0


async def test_http_closed_port_is_unreachable_and_retryable(
    session: aiohttp.ClientSession,
) -> None:
    """Nothing listening at the URL is a retryable failure that says it is unreachable."""
    url = f"http://127.0.0.1:{free_port()}/work"

    outcome = await HttpHandler(session, url, timeout_s=5)(task_factory())

    assert isinstance(outcome, Failed)
    assert outcome.retryable is True
    assert "unreachable" in outcome.error
    assert url in outcome.error


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://bob:s3cret@127.0.0.1:{port}/work?token=t0ken", id="refused"),
        pytest.param("http://bob:s3cret@127.0.0.1:99999/work?token=t0ken", id="invalid-port"),
    ],
)
async def test_http_unreachable_error_masks_credentials(
    session: aiohttp.ClientSession, url: str
) -> None:
    """The error text of an unreachable worker names its URL without password or token."""
    url = url.format(port=free_port())

    outcome = await HttpHandler(session, url, timeout_s=5)(task_factory())

    assert isinstance(outcome, Failed)
    assert "unreachable" in outcome.error
    assert "bob:***@127.0.0.1" in outcome.error
    assert "token=***" in outcome.error
    assert "s3cret" not in outcome.error
    assert "t0ken" not in outcome.error


async def test_http_timeout_error_masks_credentials(session: aiohttp.ClientSession) -> None:
    """The error text of a worker that timed out names its URL without the password."""
    release = asyncio.Event()

    async def work(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    async with worker({"/work": work}) as base:
        try:
            url = base.replace("http://", "http://bob:s3cret@") + "/work"
            outcome = await HttpHandler(session, url, timeout_s=0.2)(task_factory())
        finally:
            release.set()

    assert isinstance(outcome, Failed)
    assert "timed out" in outcome.error
    assert "bob:***@" in outcome.error
    assert "s3cret" not in outcome.error


async def test_http_redirect_is_not_followed(session: aiohttp.ClientSession) -> None:
    """A 302 answer is a failure; the handler does not go to the Location."""
    followed: list[str] = []

    async def work(request: web.Request) -> web.Response:
        raise web.HTTPFound(location="/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        followed.append(request.method)
        return web.json_response({"category": "stolen"})

    async with worker({"/work": work, "/elsewhere": elsewhere}) as base:
        outcome = await HttpHandler(session, f"{base}/work", timeout_s=5)(task_factory())

    assert not isinstance(outcome, Completed)
    assert isinstance(outcome, Failed)
    assert "302" in outcome.error
    assert followed == []


# --- registry ---------------------------------------------------------------


async def test_build_handlers_builds_each_configured_kind(
    session: aiohttp.ClientSession,
) -> None:
    """echo, http and python types get handlers with their policy; manual types get none."""
    configured = {
        "echo": HandlerSettings(kind="echo"),
        "remote": HandlerSettings(
            kind="http",
            url="http://127.0.0.1:9/work",
            timeout_s=7.5,
            max_attempts=5,
            backoff_s=2.0,
            backoff_max_s=30.0,
        ),
        "local": HandlerSettings(kind="python", target=f"{FIXTURES}:answer"),
        "people": HandlerSettings(kind="manual"),
    }

    specs = build_handlers(configured, session)

    assert set(specs) == {"echo", "remote", "local"}
    assert specs["echo"].handler is echo
    assert specs["remote"].kind == "http"
    assert specs["remote"].timeout_s == 7.5
    assert (
        specs["remote"].policy.max_attempts,
        specs["remote"].policy.backoff_s,
        specs["remote"].policy.backoff_max_s,
    ) == (5, 2.0, 30.0)
    assert "http://127.0.0.1:9/work" in specs["remote"].description
    assert await specs["local"].handler(task_factory(id="task_x")) == Completed(
        response={"seen": "task_x", "params": task_factory().params, "status": "pending"}
    )


async def test_build_handlers_description_masks_credentials(
    session: aiohttp.ClientSession,
) -> None:
    """An http handler's description (logged at start-up) shows its URL with secrets masked."""
    url = "https://bob:s3cret@worker.example/work?api_key=k3y&mode=fast"
    specs = build_handlers({"remote": HandlerSettings(kind="http", url=url)}, session)

    assert specs["remote"].description == (
        "http https://bob:***@worker.example/work?api_key=***&mode=fast"
    )


async def test_build_handlers_names_a_python_target_that_cannot_load(
    session: aiohttp.ClientSession,
) -> None:
    """A python handler whose target cannot be loaded fails start-up naming the target."""
    configured = {"local": HandlerSettings(kind="python", target=f"{FIXTURES}:not_async")}

    with pytest.raises(ValueError, match=re.escape(f"{FIXTURES}:not_async")):
        build_handlers(configured, session)
