"""Request and response plumbing shared by every endpoint.

Domain errors become `{"status_code": N, "error": "..."}` here, through one
table; nothing else in ingress/ builds an error answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import orjson
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hookline import errors
from hookline.ingress.query import Query, check_query, check_text
from hookline.submission import type_name

log = structlog.get_logger("hookline.ingress")

STATUS_BY_ERROR: dict[type[errors.HooklineError], int] = {
    errors.HooklineError: 500,
    errors.Invalid: 400,
    errors.BodyTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}
"""The HTTP status of each domain error; a class not listed answers what its nearest
listed ancestor answers (`status_for`), so the order of the entries means nothing."""

_HEADERS_BY_STATUS: dict[int, dict[str, str]] = {
    401: {"WWW-Authenticate": 'Basic realm="hookline"'},
    503: {"Retry-After": "1"},
}


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error_response(
    status_code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"status_code": status_code, "error": message}, status_code, headers)


def status_for(error: type[errors.HooklineError]) -> int:
    """The status of the first class along `error`'s MRO that `STATUS_BY_ERROR` lists.

    As starlette looks up its exception handlers: the most specific mapped class wins,
    whatever the order of the table. The root is listed, so every domain error has one.
    """
    for cls in error.__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500  # pragma: no cover - HooklineError itself is listed


async def handle_hookline_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, errors.HooklineError):  # pragma: no cover - registered for it
        raise exc
    status = status_for(type(exc))
    headers = _HEADERS_BY_STATUS.get(status)
    if isinstance(exc, errors.RateLimited):
        headers = {"Retry-After": str(exc.retry_after_s)}
    if status == 503:
        log.warning("store_unavailable", path=request.url.path, error=repr(exc.__cause__))
    if isinstance(exc, errors.StoreFailed):
        # Answered here rather than by handle_unexpected, so the connection stays open;
        # the store dropped the driver's exception, whose text holds the parameters.
        log.error("request_failed", method=request.method, path=request.url.path, error=exc.detail)
    return error_response(status, exc.message, headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for it
        raise exc
    message = {
        404: f"No endpoint {request.method} {request.url.path}; see GET /v1/openapi.json",
        405: f"Method {request.method} is not allowed on {request.url.path}",
    }.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, message, dict(exc.headers or {}) or None)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("request_failed", method=request.method, path=request.url.path)
    return error_response(500, "Internal server error; the incident was logged")


def path_param(request: Request, name: str) -> str:
    """A path parameter, decoded: routes match the raw path so that `%2F` stays in a name."""
    return check_text(name, unquote(request.path_params[name]), what="Path parameter")


def query_of(request: Request) -> Query:
    """The query string, each parameter with every value it was given; no NUL anywhere."""
    if not request.scope.get("query_string"):
        return {}  # most requests: no parsing, no `QueryParams`
    params = request.query_params
    return check_query({key: params.getlist(key) for key in params})


def is_json_media_type(content_type: str | None) -> bool:
    """`application/json` or `application/*+json`, in UTF-8 (the only charset JSON has)."""
    if not content_type:
        return False
    media_type, *params = (part.strip().lower() for part in content_type.split(";"))
    kind, _, subtype = media_type.partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    charsets = [p.partition("=")[2].strip(' "') for p in params if p.startswith("charset")]
    return all(c in ("utf-8", "utf8") for c in charsets)


async def read_body(request: Request) -> Any:
    """The request's JSON body, or None when it is empty.

    Raises:
        Invalid: the body is not JSON.
        UnsupportedMediaType: a body is sent without a JSON Content-Type.
    """
    raw = await request.body()
    if not raw.strip():
        return None
    content_type = request.headers.get("content-type")
    if not is_json_media_type(content_type):
        # The scaleapi client and curl with -H 'content-type: application/json' send it.
        raise errors.UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json; got "
            + (repr(content_type[:100]) if content_type else "no Content-Type")
        )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.Invalid(f"The request body is not valid JSON: {exc}") from exc
    if b"\\u0000" in raw and _has_nul(body):
        # PostgreSQL cannot store NUL in text or JSONB; refuse it on every backend alike.
        raise errors.Invalid("Strings in the request body must not contain NUL (\\u0000)")
    return body


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


async def read_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    body = await read_body(request)
    if body is None and not required:
        return {}
    if not isinstance(body, dict):
        raise errors.Invalid(f"The request body must be a JSON object, got {type_name(body)}")
    return body
