"""API keys: authentication (HTTP Basic, key as username and empty password, or Bearer)
and the scope check every endpoint of the route table makes (`require_scope`)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from hookline.errors import Forbidden, Unauthorized
from hookline.models import Principal, Scope

Lookup = Callable[[str], Awaitable[Principal | None]]


def key_from_header(header: str | None) -> str | None:
    """The API key carried by an Authorization header, or None."""
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer":
        return credentials or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, _password = decoded.partition(":")
        return username or None
    return None


def require_scope(who: Principal, scope: Scope | None) -> None:
    """Refuse `who` unless its key has `scope` (None: any key may).

    Raises:
        Forbidden: the key lacks the scope.
    """
    if scope is not None and not who.has_scope(scope):
        raise Forbidden(f"This API key lacks the {scope.value!r} scope")


class Authenticator:
    """Resolves keys to principals, caching answers briefly.

    A revoked key keeps working for at most `ttl_s` seconds in a process that
    saw it recently; that bound is the price of not querying on every request.
    Concurrent requests with a key not in the cache share one lookup.
    """

    def __init__(
        self,
        lookup: Lookup,
        *,
        ttl_s: float = 5.0,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._cache: OrderedDict[bytes, tuple[float, Principal | None]] = OrderedDict()
        self._pending: dict[bytes, asyncio.Future[Principal | None]] = {}

    async def __call__(self, header: str | None) -> Principal:
        key = key_from_header(header)
        if key is None:
            raise Unauthorized()
        digest = hashlib.sha256(key.encode()).digest()
        now = self._monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            found = cached[1]
        else:
            found = await self._look_up_once(digest, key)
        if found is None:
            raise Unauthorized("Invalid or revoked API key")
        return found

    async def _look_up_once(self, digest: bytes, key: str) -> Principal | None:
        pending = self._pending.get(digest)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request was cancelled
                return await self._lookup(key)  # the one that looked it up was
        future: asyncio.Future[Principal | None] = asyncio.get_running_loop().create_future()
        self._pending[digest] = future
        try:
            found = await self._lookup(key)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark it retrieved: nobody may be waiting
            raise
        finally:
            del self._pending[digest]
        future.set_result(found)
        self._cache[digest] = (self._monotonic() + self._ttl_s, found)
        self._cache.move_to_end(digest)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)
        return found
