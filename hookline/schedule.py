"""When to try a callback again, if at all. Pure: `now` and `rng` are passed in.

The schedule lists the delay before each attempt; its length is the number
of attempts. Success is any 2xx. `410 Gone` stops at once, as does a blocked
destination (so it can be replayed once the configuration is fixed).
`Retry-After` on 429/503 is a minimum that jitter never shortens, capped by
`retry_after_max_s`.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from hookline.jitter import JITTER as JITTER
from hookline.jitter import jittered


class AttemptError(enum.StrEnum):
    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    DNS = "dns"
    TLS = "tls"
    BLOCKED = "blocked"
    REDIRECT = "redirect"
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptResult:
    status_code: int | None = None
    error: AttemptError | None = None
    retry_after_s: float | None = None
    detail: str | None = None
    """For an attempt that got no answer: what went wrong, in words (a blocked one: why)."""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Next(enum.StrEnum):
    """What follows a callback attempt. The values appear in logs (`next=`)."""

    SUCCEEDED = "succeeded"
    SEND_AGAIN = "retry"
    """The attempt failed and the delivery is due again at `Step.at`."""
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Step:
    next: Next
    at: datetime | None = None
    reason: str | None = None


def next_step(
    result: AttemptResult,
    *,
    attempt: int,
    schedule_s: Sequence[float],
    retry_after_max_s: float,
    now: datetime,
    rng: random.Random,
) -> Step:
    """What follows attempt number `attempt` (1-based)."""
    if result.succeeded:
        return Step(Next.SUCCEEDED)
    if result.status_code == 410:
        return Step(Next.FAILED, reason="receiver answered 410 Gone")
    if result.error is AttemptError.BLOCKED:
        return Step(
            Next.FAILED, reason=result.detail or "destination blocked by callbacks.allow_networks"
        )
    if attempt >= len(schedule_s):
        return Step(Next.FAILED, reason=f"no 2xx after {attempt} attempts")
    delay = jittered(schedule_s[attempt], rng)
    if result.status_code in (429, 503) and result.retry_after_s is not None:
        delay = max(delay, min(result.retry_after_s, retry_after_max_s))
    return Step(Next.SEND_AGAIN, at=now + timedelta(seconds=delay))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
