"""The callback sender: claims due deliveries from the outbox, POSTs them, records each attempt.

Each attempt is signed afresh (Standard Webhooks, `webhook-id` stable per
delivery) and bounded by `callbacks.timeout_s`. Destinations are checked on
the address actually connected: a resolver that drops forbidden addresses,
plus a check of the URL's host as aiohttp parses it (IP literals, which aiohttp
does not resolve, and non-canonical numeric hosts, which some aiohttp versions
connect to unresolved). A refused destination is a `blocked` attempt whose
detail says why and which setting would allow it. One slow or dead
receiver cannot starve the others: a per-host cap (hosts at the cap are left
out of the claim) under a global one, and pooled keep-alive connections.
"""

from __future__ import annotations

import asyncio
import functools
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

import aiohttp
import orjson
import structlog
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from hookline.claimloop import ClaimLoop, LoopSettings
from hookline.config import CallbacksSettings
from hookline.guard import Network, address_refusal, host_refusal, is_forbidden, parse_networks
from hookline.metrics import Metrics, attempt_outcome
from hookline.models import DueDelivery
from hookline.ports import SenderStore
from hookline.schedule import AttemptError, AttemptResult, Next, next_step, parse_retry_after
from hookline.signing import webhook_headers
from hookline.store.deliveries import MAX_BODY_CHARS, AttemptRecord

log = structlog.get_logger("hookline.callbacks")


class BlockedDestination(OSError):
    """Every address of the destination is forbidden by the guard; the message says why."""


class GuardedResolver(AbstractResolver):
    """Resolves with aiohttp's default resolver, then drops forbidden addresses."""

    def __init__(self, allowed: Sequence[Network], inner: AbstractResolver | None = None) -> None:
        self._allowed = tuple(allowed)
        self._inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [r for r in found if not is_forbidden(r["host"], self._allowed)]
        if not allowed:
            reasons = [address_refusal(r["host"], self._allowed, host=host) for r in found]
            raise BlockedDestination(
                next((r for r in reasons if r), f"destination {host} resolves to no address")
            )
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def callback_session(settings: CallbacksSettings) -> aiohttp.ClientSession:
    """The sender's pooled session; its connector enforces the guard and the per-host cap."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(parse_networks(settings.allow_networks)),
        limit=settings.concurrency,
        limit_per_host=settings.per_host_concurrency,
        keepalive_timeout=30,
    )
    # No timeouts of aiohttp's own: `_post` bounds each whole attempt (connect, send, read)
    # with one `asyncio.timeout`, and aiohttp's would arm a timer or two more per request.
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout()
    )


def _blocked(exc: BaseException) -> BlockedDestination | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BlockedDestination):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _failure(exc: BaseException, timeout_s: float) -> AttemptResult:
    """An attempt that got no answer: its kind, and what went wrong in words."""
    blocked = _blocked(exc)
    if blocked is not None:
        return AttemptResult(error=AttemptError.BLOCKED, detail=str(blocked))
    if isinstance(exc, TimeoutError):
        return AttemptResult(error=AttemptError.TIMEOUT, detail=f"no answer within {timeout_s:g} s")
    return AttemptResult(error=_error_kind(exc), detail=str(exc) or type(exc).__name__)


def _error_kind(exc: BaseException) -> AttemptError:
    if isinstance(exc, TimeoutError):
        return AttemptError.TIMEOUT
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch):
        return AttemptError.TLS
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return AttemptError.DNS
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return AttemptError.CONNECTION_REFUSED
        return AttemptError.OTHER
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        return AttemptError.CONNECTION_RESET
    return AttemptError.OTHER


class CallbackSender:
    def __init__(
        self,
        store: SenderStore,
        session: aiohttp.ClientSession,
        settings: CallbacksSettings,
        *,
        worker: str,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._outbox = store.deliveries
        self._session = session
        self._metrics = metrics or Metrics()
        self._settings = settings
        self._allowed = parse_networks(settings.allow_networks)
        self._target = functools.lru_cache(maxsize=1024)(self._target_of)
        self.worker = worker
        self._clock = clock or store.db.clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._skipped: list[str] = []
        self._reserved: Counter[str] = Counter()
        """Slots `take` promised to deliveries whose transaction has not ended yet, by host."""
        self._slots = threading.Lock()
        """Guards `_reserved`: `take` runs in the creating transaction, on SQLite on the
        writer's thread (see `store.sqlite_writer`)."""
        self._taking = False
        self._backlog = False
        """Deliveries wait for a claim: new ones queue behind them rather than take slots."""
        self.lease_s = settings.lease_s
        self._loop = ClaimLoop(
            LoopSettings(
                concurrency=settings.concurrency,
                claim_size=settings.claim_size,
                poll_s=settings.poll_s,
                idle_poll_s=settings.idle_poll_s,
                claim_interval_s=settings.claim_interval_s,
            ),
            claim=self._claim,
            work=self._deliver,
            wait_for_more=store.signals.wait_for_callbacks,
            held_back=lambda: bool(self._skipped),
            log=log,
            failed_event="callback_claim_failed",
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; then let in-flight attempts finish (bounded by the timeout)."""
        log.info(
            "callback_sender_started",
            worker=self.worker,
            attempts=len(self._settings.schedule_s),
            allow_networks=list(self._settings.allow_networks),
        )
        self._taking = True
        try:
            await self._loop.run(stop)
        finally:
            self._taking = False
            await self._loop.drain(self._settings.timeout_s + 5, cancel=False)
            log.info("callback_sender_stopped", worker=self.worker)

    def take(self, hosts: Sequence[str]) -> list[bool]:
        """The handoff (`signals.Handoff`): take new deliveries while slots are free, within
        the per-host cap; each taken one holds a slot until `give` or `cancel`."""
        if not self._taking or self._backlog:
            # Under load the claim loop batches better, and a slot the handoff took would
            # make the loop's next claim come back empty.
            return [False] * len(hosts)
        with self._slots:
            free = self._settings.concurrency - len(self._loop.inflight) - self._reserved.total()
            per_host = self._per_host()
            cap = self._settings.per_host_concurrency
            taken = []
            for host in hosts:
                ok = not self._backlog and free > 0 and per_host[host] < cap
                if ok:
                    free -= 1
                    per_host[host] += 1
                    self._reserved[host] += 1
                else:
                    self._backlog = True
                taken.append(ok)
        return taken

    def give(self, due: Sequence[DueDelivery]) -> None:
        """Start deliveries `take` took, their transaction committed. After stop they are
        left to their lease: it expires and they are due again."""
        with self._slots:  # a slot moves from reserved to in flight at once, for `take`
            self._release([delivery.host for delivery in due])
            if self._taking:
                for delivery in due:
                    self._loop.start(delivery)

    def cancel(self, hosts: Sequence[str]) -> None:
        with self._slots:
            self._release(hosts)

    def _release(self, hosts: Sequence[str]) -> None:
        self._reserved.subtract(hosts)
        self._reserved = +self._reserved

    def _wake_at(self, at: datetime) -> None:
        """Claim when a retry comes due: nothing else announces it. (Other senders, and this
        one after a restart, find it when they poll.)"""
        self._loop.wake_in((at - self._clock()).total_seconds())

    def _per_host(self) -> Counter[str]:
        return Counter(delivery.host for delivery in self._loop.inflight) + self._reserved

    async def _claim(self, limit: int) -> Sequence[DueDelivery]:
        """Claim due deliveries, leaving out hosts at their concurrency cap."""
        with self._slots:
            reserved = self._reserved.total()
            per_host = self._per_host()
        limit = min(limit, self._settings.concurrency - len(self._loop.inflight) - reserved)
        if limit <= 0:
            return []
        cap = self._settings.per_host_concurrency
        self._skipped = [host for host, n in per_host.items() if n >= cap]
        claimed = await self._outbox.claim(
            worker=self.worker,
            limit=limit,
            lease_s=self._settings.lease_s,
            skip_hosts=self._skipped,
        )
        if len(claimed) < limit and not self._skipped:
            self._backlog = False  # caught up: new deliveries may be taken again
        return claimed

    async def _deliver(self, delivery: DueDelivery) -> None:
        attempt = delivery.attempts + 1
        # Named in its two log lines rather than bound for the whole attempt: binding and
        # unbinding context variables cost more than the rest of the bookkeeping here.
        ids = {"delivery_id": delivery.id, "attempt": attempt}
        started = self._clock()
        began = time.perf_counter()
        result, body = await self._post(delivery, started)
        duration_ms = round((time.perf_counter() - began) * 1000, 2)
        step = next_step(
            result,
            attempt=attempt,
            schedule_s=self._settings.schedule_s,
            retry_after_max_s=self._settings.retry_after_max_s,
            now=self._clock(),
            rng=self._rng,
        )
        attempt_record = AttemptRecord(
            delivery_id=delivery.id,
            at=started,
            status_code=result.status_code,
            error=result.error.value if result.error else None,
            duration_ms=duration_ms,
            body=body,
            detail=result.detail,
            next=step.next,
            next_attempt_at=step.at,
            reason=step.reason,
        )
        try:
            await self._outbox.record(self.worker, attempt_record)
        except Exception:
            # The lease expires and the delivery is attempted again.
            log.exception("callback_record_failed", **ids)
            return
        if step.next is Next.SEND_AGAIN and step.at is not None:
            self._wake_at(step.at)
        self._metrics.callback_attempt(
            outcome=attempt_outcome(result.status_code, attempt_record.error),
            delivery_id=delivery.id,
            delivered_at=self._clock() if step.next is Next.SUCCEEDED else None,
        )
        level = {Next.SUCCEEDED: log.debug, Next.SEND_AGAIN: log.info}.get(step.next, log.warning)
        level(
            "callback_attempt",
            **ids,
            host=delivery.host,
            status_code=result.status_code,
            error=attempt_record.error,
            detail=result.detail,
            duration_ms=duration_ms,
            next=step.next.value,
        )

    def _target_of(self, url: str) -> tuple[yarl.URL | None, str | None]:
        """The URL as aiohttp sends it, and why its host is refused before any connection
        (or None); without a URL, why it is not one. Kept per URL (`_target`): what
        decides does not change while the sender runs, and a receiver gets many."""
        try:
            # The host as aiohttp will see it (yarl normalizes, e.g. fullwidth digits to ASCII).
            parsed = yarl.URL(url)
            host = parsed.host or ""
        except ValueError as exc:
            return None, f"invalid URL: {exc}"
        return parsed, host_refusal(host, self._allowed)

    async def _post(self, delivery: DueDelivery, now: datetime) -> tuple[AttemptResult, str | None]:
        target, refusal = self._target(delivery.url)
        if target is None:
            return AttemptResult(error=AttemptError.OTHER, detail=refusal), None
        if refusal is not None:
            return AttemptResult(error=AttemptError.BLOCKED, detail=refusal), None
        body = orjson.dumps(delivery.payload)
        headers = {
            "content-type": "application/json",
            "user-agent": "hookline-callbacks",
            "scale-callback-auth": delivery.callback_auth_key,
            **webhook_headers(
                delivery.secrets, msg_id=f"msg_{delivery.id}", timestamp=now, body=body
            ),
        }
        timeout_s = self._settings.timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                async with self._session.post(
                    target,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                ) as response:
                    raw = await response.content.read(MAX_BODY_CHARS)
                    status = response.status
                    retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        except Exception as exc:  # noqa: BLE001 - every failure is an attempt's result
            return _failure(exc, timeout_s), None
        text = raw.decode("utf-8", "replace")
        if 300 <= status < 400:
            # Redirects are not followed: a receiver must answer where it was registered.
            return AttemptResult(status_code=status, error=AttemptError.REDIRECT), text
        return AttemptResult(status_code=status, retry_after_s=retry_after), text
