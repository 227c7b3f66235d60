"""Pure ASGI middleware: raw-path routing and the request body limit."""

from __future__ import annotations

import os
import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.errors import BodyTooLarge
from hookline.ingress.http import error_response

_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
log = structlog.get_logger("hookline.ingress")


class RequestContext:
    """Bind a request id to the logs of one request and answer it in `x-request-id`.

    A well-formed `x-request-id` from the caller (a load balancer, say) is kept.
    Each request is logged at debug level; failures are logged by the error handlers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                log.debug(
                    "http_request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )


class RawPathRouting:
    """Route on the undecoded path, so a name containing `%2F` stays one segment.

    The official client quotes project and batch names with `safe=""`;
    Starlette would otherwise route on the decoded path. Endpoints decode
    path parameters themselves (`http.path_param`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and raw:
            scope = dict(scope)
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
