"""The retry schedule and the decision taken after each attempt."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from hookline.models import Completed, Failed, SettleKind, Settlement
from hookline.retry import JITTER, RetryPolicy, backoff_s, decide

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
SAMPLES = 2000


def seeded(seed: int) -> random.Random:
    """A reproducible rng for the jitter (not for anything secret)."""
    return random.Random(seed)  # noqa: S311


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in (0, 1, 42)])
def test_backoff_doubles_per_attempt(seed: int) -> None:
    """With the same jitter draw, each attempt waits twice as long as the one before."""
    policy = RetryPolicy(backoff_s=0.5, backoff_max_s=10_000.0)
    delays = [backoff_s(attempt, policy, seeded(seed)) for attempt in range(1, 9)]

    for earlier, later in itertools.pairwise(delays):
        assert later == pytest.approx(2 * earlier)


@pytest.mark.parametrize(
    ("attempt", "base"),
    [
        pytest.param(1, 2.0, id="first"),
        pytest.param(2, 4.0, id="second"),
        pytest.param(3, 8.0, id="third"),
        pytest.param(5, 32.0, id="fifth"),
        pytest.param(6, 60.0, id="sixth-capped"),
        pytest.param(30, 60.0, id="thirtieth-capped"),
    ],
)
def test_backoff_stays_within_jitter_of_its_base(attempt: int, base: float) -> None:
    """Every delay lies within ±20% of backoff_s·2^(attempt-1), capped at backoff_max_s."""
    policy = RetryPolicy(backoff_s=2.0, backoff_max_s=60.0)
    rng = seeded(attempt)
    delays = [backoff_s(attempt, policy, rng) for _ in range(SAMPLES)]

    low, high = base * (1 - JITTER), base * (1 + JITTER)
    assert all(low <= d <= high for d in delays)
    # The jitter is spread over the whole band, on both sides of the base.
    assert min(delays) < base * (1 - JITTER / 2)
    assert max(delays) > base * (1 + JITTER / 2)


def test_backoff_is_capped_by_backoff_max_s() -> None:
    """Past the cap, later attempts wait no longer than earlier capped ones."""
    policy = RetryPolicy(backoff_s=1.0, backoff_max_s=60.0)

    capped = {backoff_s(attempt, policy, seeded(3)) for attempt in range(7, 40)}

    assert len(capped) == 1
    assert capped.pop() <= 60.0 * (1 + JITTER)


def test_backoff_varies_between_tasks() -> None:
    """Two draws for the same attempt differ, so retries do not arrive together."""
    policy = RetryPolicy(backoff_s=1.0)
    rng = seeded(9)

    delays = {backoff_s(2, policy, rng) for _ in range(50)}

    assert len(delays) == 50


def test_backoff_does_not_overflow_for_large_attempt_numbers() -> None:
    """A very late attempt still waits about backoff_max_s instead of raising."""
    policy = RetryPolicy(max_attempts=5000, backoff_s=1.0, backoff_max_s=60.0)

    delay = backoff_s(2000, policy, seeded(0))

    assert 60.0 * (1 - JITTER) <= delay <= 60.0 * (1 + JITTER)


@pytest.mark.parametrize(
    "attempt",
    [pytest.param(1, id="first"), pytest.param(3, id="at-max"), pytest.param(9, id="past-max")],
)
def test_completed_outcome_settles_complete_with_its_response(attempt: int) -> None:
    """A Completed outcome completes the task with its response, whatever the attempt."""
    response = {"category": "dog", "nested": [1, 2]}

    settlement = decide(
        "task_1",
        Completed(response=response),
        attempt=attempt,
        policy=RetryPolicy(max_attempts=3),
        now=NOW,
        rng=seeded(0),
    )

    assert settlement == Settlement(task_id="task_1", kind=SettleKind.COMPLETE, response=response)


@pytest.mark.parametrize(
    ("attempt", "max_attempts"),
    [
        pytest.param(1, 2, id="1-of-2"),
        pytest.param(1, 3, id="1-of-3"),
        pytest.param(2, 3, id="2-of-3"),
        pytest.param(4, 5, id="4-of-5"),
    ],
)
def test_retryable_failure_below_max_attempts_retries_later(
    attempt: int, max_attempts: int
) -> None:
    """A retryable failure with attempts left is retried after the backoff for that attempt."""
    policy = RetryPolicy(max_attempts=max_attempts, backoff_s=2.0, backoff_max_s=300.0)
    base = min(2.0 * 2 ** (attempt - 1), 300.0)

    for seed in range(200):
        settlement = decide(
            "task_1",
            Failed(error="worker answered 503", retryable=True),
            attempt=attempt,
            policy=policy,
            now=NOW,
            rng=seeded(seed),
        )

        assert settlement.kind is SettleKind.TRY_LATER
        assert settlement.task_id == "task_1"
        assert settlement.error == "worker answered 503"
        assert settlement.response is None
        assert settlement.retry_at is not None
        waited = settlement.retry_at - NOW
        assert timedelta(seconds=base * (1 - JITTER)) <= waited
        assert waited <= timedelta(seconds=base * (1 + JITTER))


def test_retry_at_uses_the_backoff_drawn_from_the_given_rng() -> None:
    """retry_at is now plus the backoff that the same rng state gives."""
    policy = RetryPolicy(max_attempts=5, backoff_s=1.5)

    settlement = decide(
        "task_1",
        Failed(error="timed out", retryable=True),
        attempt=3,
        policy=policy,
        now=NOW,
        rng=seeded(1234),
    )

    expected = NOW + timedelta(seconds=backoff_s(3, policy, seeded(1234)))
    assert settlement.retry_at == expected


@pytest.mark.parametrize(
    ("attempt", "max_attempts"),
    [
        pytest.param(1, 1, id="1-of-1"),
        pytest.param(3, 3, id="3-of-3"),
        pytest.param(4, 3, id="past-max"),
    ],
)
def test_retryable_failure_at_max_attempts_fails(attempt: int, max_attempts: int) -> None:
    """With no attempts left a retryable failure errors the task, saying how many were made."""
    settlement = decide(
        "task_1",
        Failed(error="worker answered 503", retryable=True),
        attempt=attempt,
        policy=RetryPolicy(max_attempts=max_attempts),
        now=NOW,
        rng=seeded(0),
    )

    assert settlement.kind is SettleKind.FAIL
    assert settlement.retry_at is None
    assert settlement.error is not None
    assert settlement.error.startswith("worker answered 503")
    assert f"{attempt} attempts" in settlement.error


@pytest.mark.parametrize(
    ("attempt", "max_attempts"),
    [pytest.param(1, 3, id="first-of-3"), pytest.param(2, 10, id="second-of-10")],
)
def test_non_retryable_failure_fails_at_once(attempt: int, max_attempts: int) -> None:
    """A failure that is not retryable errors the task at once with its own message."""
    settlement = decide(
        "task_1",
        Failed(error="worker answered 400: bad params", retryable=False),
        attempt=attempt,
        policy=RetryPolicy(max_attempts=max_attempts),
        now=NOW,
        rng=seeded(0),
    )

    assert settlement == Settlement(
        task_id="task_1", kind=SettleKind.FAIL, error="worker answered 400: bad params"
    )
