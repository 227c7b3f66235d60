"""Rate limits of one API process: per API key and scope, and per client address for failed authentication.

The buckets live in this process's memory (`hookline.ratelimit`); with N API
processes behind one address each keeps its own, so a client may make up to N
times the configured rate.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

import structlog
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hookline import models
from hookline.config import RateLimitsSettings
from hookline.errors import RateLimited
from hookline.ingress.docs import ASSET_PATHS, DOCS_PATH
from hookline.ingress.http import error_response
from hookline.ratelimit import Buckets, Rate, retry_after_s

log = structlog.get_logger("hookline.ingress")

Clock = Callable[[], float]
BUCKET_NAMES = ("submit", "work", "audit", "read")
_BUCKET_OF_SCOPE = {
    models.Scope.SUBMIT: "submit",
    models.Scope.WORK: "work",
    models.Scope.AUDIT: "audit",
}
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/v1/openapi.json", DOCS_PATH, *ASSET_PATHS})


def middleware(settings: RateLimitsSettings, *, clock: Clock = time.monotonic) -> list[Middleware]:
    """The middleware that finds the client address and limits failed authentications."""
    out = []
    if settings.trusted_proxies:
        trusted = [str(ipaddress.ip_network(p, strict=False)) for p in settings.trusted_proxies]
        out.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=trusted))
    if settings.enabled and settings.failed_auth_per_minute > 0:
        out.append(
            Middleware(
                FailedAuthLimit,
                per_minute=settings.failed_auth_per_minute,
                max_addresses=settings.max_tracked,
                clock=clock,
            )
        )
    return out


def address_key(host: str | None) -> str:
    """The address a client's failures count against: its IP, or its /64 for IPv6."""
    if not host:
        return "unknown"
    if ":" not in host:
        return host
    try:
        ip = ipaddress.IPv6Address(host)
    except ValueError:
        return host
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    # One IPv6 host usually holds a whole /64, so counting single addresses would not limit it.
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


class FailedAuthLimit:
    """After too many 401s to one client address, answer it 429 before looking at its key.

    A blocked address costs no database work and no hashing. Every 401 counts
    (a missing, malformed, unknown or revoked key).
    """

    def __init__(
        self, app: ASGIApp, *, per_minute: int, max_addresses: int, clock: Clock = time.monotonic
    ) -> None:
        self.app = app
        self.per_minute = per_minute
        self.buckets = Buckets(
            Rate(per_s=per_minute / 60, burst=per_minute), max_keys=max_addresses
        )
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = address_key(client[0] if client else None)
        wait = self.buckets.wait(address, self.clock())
        if wait > 0:
            after = retry_after_s(wait)
            message = (
                f"Too many failed authentications from {address} "
                f"(more than {self.per_minute} a minute, setting "
                f"rate_limits.failed_auth_per_minute); retry after {after} s with a valid key"
            )
            answer = error_response(429, message, {"Retry-After": str(after)})
            await answer(scope, receive, send)
            return

        async def send_watching(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self._failed(address)
            await send(message)

        await self.app(scope, receive, send_watching)

    def _failed(self, address: str) -> None:
        now = self.clock()
        was_open = self.buckets.wait(address, now) == 0
        if self.buckets.spend(address, now) > 0 and was_open:
            log.warning("failed_auth_limited", client=address, per_minute=self.per_minute)


class KeyLimits:
    """Token buckets per API key, one set per scope of endpoint."""

    def __init__(self, settings: RateLimitsSettings, *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.buckets: dict[str, Buckets] = {}
        if not settings.enabled:
            return
        for name in BUCKET_NAMES:
            per_s: float = getattr(settings, f"{name}_per_s")
            if per_s > 0:
                rate = Rate(per_s=per_s, burst=getattr(settings, f"{name}_burst"))
                self.buckets[name] = Buckets(rate, max_keys=settings.max_tracked)

    def check(self, who: models.Principal, scope: models.Scope | None) -> None:
        """Count one request of `who` to an endpoint needing `scope`.

        Raises:
            RateLimited: the key's bucket for that scope is empty.
        """
        name = _BUCKET_OF_SCOPE.get(scope, "read") if scope else "read"
        buckets = self.buckets.get(name)
        if buckets is None:
            return
        wait = buckets.take(who.key_id, self.clock())
        if wait > 0:
            after = retry_after_s(wait)
            rate = buckets.rate
            raise RateLimited(
                f"This API key is over its rate limit for {name} requests "
                f"({rate.per_s:g} a second, bursts of {rate.burst}; settings "
                f"rate_limits.{name}_per_s and rate_limits.{name}_burst); retry after {after} s",
                retry_after_s=after,
            )
