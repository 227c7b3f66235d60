"""A small async client of the v1 API: one aiohttp session, bounded retries, one-line errors.

Exceptions (every one carries a message a person can act on, on one line):

    ClientError        the root
    ├── Unreachable    no answer from the server (refused, reset, timed out) after retries
    └── ApiError       the server answered with a status other than 200 (`status`, `message`)

aiohttp's errors are translated here and nowhere else.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import orjson

Params = Sequence[tuple[str, str]]
"""Query parameters as pairs, so that a name can repeat (`tags=a&tags=b`)."""

DEFAULT_URL = "http://127.0.0.1:8000"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0


class ClientError(Exception):
    """The request could not be done."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(ClientError):
    """No answer from the server."""


class ApiError(ClientError):
    """The server refused the request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(describe_refusal(status, message))
        self.status = status
        self.reason = message


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    """The decoded JSON answer, or the text when it is not JSON."""
    retry_after: str | None = None

    @property
    def error(self) -> str:
        """The Scale error shape's message, else the text of the answer."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), str):
            return str(self.body["error"])
        return str(self.body)[:200] if self.body not in (None, "") else f"HTTP {self.status}"


def describe_refusal(status: int, message: str) -> str:
    """`"401: Invalid or revoked API key; check --key/HOOKLINE_KEY"` and the like."""
    hint = {
        401: "; check --key/HOOKLINE_KEY",
        403: "; the key lacks the scope this needs",
    }.get(status, "")
    return f"{status}: {message}{hint}"


def base_url(raw: str) -> str:
    """The server's root URL from `--url`: `http(s)://HOST[:PORT]`, a trailing `/v1` allowed."""
    try:
        parts = urlsplit(raw.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ClientError(f"--url/HOOKLINE_URL is not a URL: {raw!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClientError(f"--url/HOOKLINE_URL must be http(s)://HOST[:PORT], got {raw!r}")
    path = parts.path.rstrip("/")
    path = path.removesuffix("/v1")
    return f"{parts.scheme}://{parts.netloc}{path}"


def retry_delay_s(attempt: int, *, status: int | None, retry_after: str | None) -> float:
    """How long to wait before attempt `attempt + 1` (0.2 s, 0.4 s, … or the server's
    Retry-After, at most MAX_RETRY_AFTER_S). `status` None: no answer at all."""
    backoff: float = min(0.2 * 2.0**attempt, 5.0)
    if status == 429 and retry_after:
        try:
            return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_S)
        except ValueError:
            return backoff
    return backoff


def path_of(*segments: str) -> str:
    """`/v1/...` with every segment percent-encoded (task types and ids come from users)."""
    return "/v1/" + "/".join(quote(s, safe="") for s in segments)


Sleep = Callable[[float], Awaitable[None]]


class ApiClient:
    """Calls the API at `base` with `key`; retries 429, 502-504 and lost connections."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        *,
        retries: int = 3,
        timeout_s: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._session = session
        self.base = base
        self._retries = retries
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._sleep = sleep

    async def call(
        self, method: str, path: str, *, params: Params = (), body: Any = None
    ) -> Answer:
        """The server's answer, whatever its status, once retries are spent or not needed."""
        data = None if body is None else orjson.dumps(body)
        attempt = 0
        while True:
            try:
                answer = await self._once(method, path, params, data)
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if attempt >= self._retries:
                    raise Unreachable(
                        f"cannot reach {self.base}: {_why(exc)}; is hookline running?"
                    ) from exc
                await self._sleep(retry_delay_s(attempt, status=None, retry_after=None))
            else:
                if answer.status not in RETRY_STATUSES or attempt >= self._retries:
                    return answer
                await self._sleep(
                    retry_delay_s(attempt, status=answer.status, retry_after=answer.retry_after)
                )
            attempt += 1

    async def _once(self, method: str, path: str, params: Params, data: bytes | None) -> Answer:
        headers = {"Content-Type": "application/json"} if data is not None else None
        async with self._session.request(
            method,
            self.base + path,
            params=list(params) or None,
            data=data,
            headers=headers,
            timeout=self._timeout,
        ) as resp:
            raw = await resp.read()
            try:
                body: Any = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                body = raw.decode(errors="replace")
            return Answer(resp.status, body, resp.headers.get("Retry-After"))

    async def get(self, path: str, params: Params = ()) -> Any:
        """The JSON answer of a GET; ApiError unless it is a 200."""
        return _ok(await self.call("GET", path, params=params))

    async def post(self, path: str, body: Any = None, params: Params = ()) -> Any:
        """The JSON answer of a POST; ApiError unless it is a 200."""
        return _ok(await self.call("POST", path, params=params, body=body))


def _why(exc: Exception) -> str:
    """A few words for a lost connection: `connection refused`, `no answer in 30 s`."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "host name not found"
    if isinstance(exc, aiohttp.ClientConnectorError) and exc.os_error.errno:
        errno = exc.os_error.errno
        return (os.strerror(errno) if errno > 0 else exc.os_error.strerror or str(errno)).lower()
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return str(exc) or type(exc).__name__


def _ok(answer: Answer) -> Any:
    if answer.status != 200:
        raise ApiError(answer.status, answer.error)
    return answer.body


def after_token(last_id: int) -> str:
    """The `next_token` that pages the audit trail on from event `last_id`.

    The server answers no token on the last page; following a feed needs one, so it is
    made here in the server's format (hookline.ingress.query.after_token, checked equal
    by a test) rather than importing the ingress package into every client command.
    """
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def basic_auth(key: str) -> str:
    """Scale's HTTP Basic: the key as user name, an empty password."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@asynccontextmanager
async def open_client(url: str, key: str, *, connections: int = 16) -> AsyncIterator[ApiClient]:
    """An ApiClient over one keep-alive session of at most `connections` connections."""
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    headers = {"Authorization": basic_auth(key), "Accept": "application/json"}
    async with aiohttp.ClientSession(
        connector=connector, headers=headers, raise_for_status=False
    ) as session:
        yield ApiClient(session, base_url(url))
