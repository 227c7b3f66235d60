"""What to do after an attempt: complete, try again later, or give up. Pure."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from hookline.jitter import JITTER as JITTER
from hookline.jitter import jittered
from hookline.models import Completed, Failed, Outcome, SettleKind, Settlement


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff_s: float = 1.0
    backoff_max_s: float = 300.0


def backoff_s(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Delay after failed attempt number `attempt` (1-based): exponential, capped, jittered."""
    # The exponent is bounded so that late attempts cannot overflow before the cap applies.
    base = min(policy.backoff_s * math.pow(2, min(attempt - 1, 60)), policy.backoff_max_s)
    return jittered(base, rng)


def decide(
    task_id: str,
    outcome: Outcome,
    *,
    attempt: int,
    policy: RetryPolicy,
    now: datetime,
    rng: random.Random,
) -> Settlement:
    """The settlement for one attempt's outcome."""
    if isinstance(outcome, Completed):
        return Settlement(task_id=task_id, kind=SettleKind.COMPLETE, response=outcome.response)
    assert isinstance(outcome, Failed)  # noqa: S101 - Outcome is a closed union
    if outcome.retryable and attempt < policy.max_attempts:
        delay = timedelta(seconds=backoff_s(attempt, policy, rng))
        return Settlement(
            task_id=task_id, kind=SettleKind.TRY_LATER, error=outcome.error, retry_at=now + delay
        )
    reason = outcome.error
    if outcome.retryable:
        reason = f"{outcome.error} (gave up after {attempt} attempts)"
    return Settlement(task_id=task_id, kind=SettleKind.FAIL, error=reason)
