"""Pure ASGI middleware: raw-path routing and the request body limit."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.errors import BodyTooLarge
from hookline.ingress.http import error_response


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
