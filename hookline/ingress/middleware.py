"""Pure ASGI middleware: raw-path routing, each request's id, log line and metrics, and the
request body limit."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.errors import BodyTooLarge
from hookline.ingress.http import error_response

_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
log = structlog.get_logger("hookline.ingress")


Observe = Callable[[Scope, int, float], None]
"""Told of each request once it ends: its scope, its status (500 when the app raised
before answering) and its duration in seconds."""


class RequestContext:
    """Bind a request id to the logs of one request and answer it in `x-request-id`; time
    each request for its debug log line and for `observe` (the metrics).

    A well-formed `x-request-id` from the caller (a load balancer, say) is kept.
    Failures are logged by the error handlers. One layer does all three: each layer
    around an app costs every request a coroutine and a wrapped `send`.
    """

    def __init__(self, app: ASGIApp, *, observe: Observe | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = given.decode() if _REQUEST_ID.fullmatch(given) else os.urandom(16).hex()
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        # Bound and reset by hand: `bound_contextvars` is a generator-based context manager.
        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.observe is not None:
                self.observe(scope, status or 500, seconds)
            log.debug(
                "http_request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )
            structlog.contextvars.reset_contextvars(**bound)


class RawPathRouting:
    """Route on the undecoded path, so a name containing `%2F` stays one segment.

    The official client quotes project and batch names with `safe=""`;
    Starlette would otherwise route on the decoded path. Endpoints decode
    path parameters themselves (`http.path_param`). The scope is changed in place,
    as Starlette's router changes it, so that the layers around the router see the
    `route` it chose (`RequestMetrics` labels by it).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and raw:
            scope["path"] = raw.decode("latin-1").partition("?")[0]
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse bodies over `max_bytes`: at once from Content-Length, else while reading."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0:
                    await error_response(400, "Invalid Content-Length header")(scope, receive, send)
                    return
                if declared > self.max_bytes:
                    await self._too_large()(scope, receive, send)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self._message())
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> str:
        return (
            f"The request body is larger than {self.max_bytes} bytes "
            "(setting limits.max_body_bytes, HOOKLINE_LIMITS_MAX_BODY_BYTES)"
        )

    def _too_large(self) -> ASGIApp:
        return error_response(413, self._message())
