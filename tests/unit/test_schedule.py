"""The callback retry schedule and the decision taken after each attempt."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from hookline.schedule import (
    JITTER,
    AttemptError,
    AttemptResult,
    Next,
    Step,
    next_step,
    parse_retry_after,
)

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
SCHEDULE_S = (0.0, 5.0, 60.0, 300.0, 1800.0)
RETRY_AFTER_MAX_S = 3600.0
SAMPLES = 2000


def seeded(seed: int) -> random.Random:
    """A reproducible rng for the jitter (not for anything secret)."""
    return random.Random(seed)  # noqa: S311


def step_after(
    result: AttemptResult,
    *,
    attempt: int = 1,
    schedule_s: tuple[float, ...] = SCHEDULE_S,
    retry_after_max_s: float = RETRY_AFTER_MAX_S,
    rng: random.Random | None = None,
) -> Step:
    """next_step with this module's defaults."""
    return next_step(
        result,
        attempt=attempt,
        schedule_s=schedule_s,
        retry_after_max_s=retry_after_max_s,
        now=NOW,
        rng=rng or seeded(0),
    )


def delay_s(step: Step) -> float:
    """Seconds from NOW to the step's next attempt."""
    assert step.next is Next.SEND_AGAIN
    assert step.at is not None
    return (step.at - NOW).total_seconds()


@pytest.mark.parametrize(
    "status_code",
    [
        pytest.param(200, id="200"),
        pytest.param(201, id="201"),
        pytest.param(202, id="202"),
        pytest.param(204, id="204"),
        pytest.param(299, id="299"),
    ],
)
@pytest.mark.parametrize(
    "attempt", [pytest.param(1, id="first-attempt"), pytest.param(5, id="last-attempt")]
)
def test_any_2xx_succeeds(status_code: int, attempt: int) -> None:
    """Any 2xx answer ends the delivery as succeeded, on any attempt."""
    step = step_after(AttemptResult(status_code=status_code), attempt=attempt)

    assert step.next is Next.SUCCEEDED
    assert step.at is None


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(1, id="first-of-five"),
        pytest.param(3, id="third-of-five"),
        pytest.param(5, id="last"),
    ],
)
def test_410_fails_at_once(attempt: int) -> None:
    """410 Gone fails the delivery whatever attempts remain."""
    step = step_after(AttemptResult(status_code=410), attempt=attempt)

    assert step.next is Next.FAILED
    assert step.at is None
    assert step.reason is not None
    assert "410" in step.reason


def test_blocked_destination_fails_at_once() -> None:
    """A blocked destination fails the delivery on the first attempt."""
    step = step_after(AttemptResult(error=AttemptError.BLOCKED), attempt=1)

    assert step.next is Next.FAILED
    assert step.at is None
    assert step.reason is not None
    assert "blocked" in step.reason


def test_blocked_destination_reason_is_the_guards() -> None:
    """A blocked attempt's detail becomes the reason the delivery failed."""
    detail = "destination 127.0.0.1 is a loopback address"
    step = step_after(AttemptResult(error=AttemptError.BLOCKED, detail=detail), attempt=1)

    assert (step.next, step.reason) == (Next.FAILED, detail)


FAILURES = [
    pytest.param(AttemptResult(status_code=301, error=AttemptError.REDIRECT), id="301-redirect"),
    pytest.param(AttemptResult(status_code=302, error=AttemptError.REDIRECT), id="302-redirect"),
    pytest.param(AttemptResult(status_code=304), id="304"),
    pytest.param(AttemptResult(status_code=400), id="400"),
    pytest.param(AttemptResult(status_code=404), id="404"),
    pytest.param(AttemptResult(status_code=429), id="429-no-retry-after"),
    pytest.param(AttemptResult(status_code=500), id="500"),
    pytest.param(AttemptResult(status_code=503), id="503-no-retry-after"),
    pytest.param(AttemptResult(error=AttemptError.TIMEOUT), id="timeout"),
    pytest.param(AttemptResult(error=AttemptError.CONNECTION_REFUSED), id="refused"),
    pytest.param(AttemptResult(error=AttemptError.CONNECTION_RESET), id="reset"),
    pytest.param(AttemptResult(error=AttemptError.DNS), id="dns"),
    pytest.param(AttemptResult(error=AttemptError.TLS), id="tls"),
]


@pytest.mark.parametrize("result", FAILURES)
@pytest.mark.parametrize(
    ("attempt", "scheduled_s"),
    [
        pytest.param(1, 5.0, id="after-1st"),
        pytest.param(2, 60.0, id="after-2nd"),
        pytest.param(4, 1800.0, id="after-4th"),
    ],
)
def test_failure_retries_within_jitter_of_the_schedule(
    result: AttemptResult, attempt: int, scheduled_s: float
) -> None:
    """A failed attempt is retried schedule_s[attempt] later, within ±20% jitter."""
    rng = seeded(attempt)
    delays = [delay_s(step_after(result, attempt=attempt, rng=rng)) for _ in range(SAMPLES)]

    low, high = scheduled_s * (1 - JITTER), scheduled_s * (1 + JITTER)
    assert all(low <= d <= high for d in delays)
    # The jitter is spread over the band, on both sides of the scheduled delay.
    assert min(delays) < scheduled_s * (1 - JITTER / 2)
    assert max(delays) > scheduled_s * (1 + JITTER / 2)


def test_jitter_is_twenty_percent() -> None:
    """The jitter band is ±20%."""
    assert pytest.approx(0.2) == JITTER


def test_same_seed_gives_same_retry_time() -> None:
    """The retry time depends only on the rng passed in."""
    result = AttemptResult(status_code=500)

    first = step_after(result, attempt=2, rng=seeded(7))
    second = step_after(result, attempt=2, rng=seeded(7))

    assert first == second


@pytest.mark.parametrize("result", FAILURES)
@pytest.mark.parametrize(
    "schedule_s",
    [
        pytest.param((0.0,), id="one-attempt"),
        pytest.param((0.0, 0.2, 0.4), id="three-attempts"),
        pytest.param(SCHEDULE_S, id="five-attempts"),
    ],
)
def test_spent_schedule_fails_naming_the_attempts(
    result: AttemptResult, schedule_s: tuple[float, ...]
) -> None:
    """After len(schedule_s) attempts a failure is final, and the reason counts them."""
    attempts = len(schedule_s)

    step = step_after(result, attempt=attempts, schedule_s=schedule_s)

    assert step.next is Next.FAILED
    assert step.at is None
    assert step.reason is not None
    assert str(attempts) in step.reason


def test_schedule_length_is_the_number_of_attempts() -> None:
    """Every attempt but the last is retried; the last one fails."""
    schedule_s = (0.0, 0.2, 0.4)
    result = AttemptResult(error=AttemptError.TIMEOUT)

    nexts = [step_after(result, attempt=n, schedule_s=schedule_s).next for n in (1, 2, 3)]

    assert nexts == [Next.SEND_AGAIN, Next.SEND_AGAIN, Next.FAILED]


@pytest.mark.parametrize("status_code", [pytest.param(429, id="429"), pytest.param(503, id="503")])
@pytest.mark.parametrize(
    ("attempt", "retry_after_s"),
    [
        pytest.param(1, 10.0, id="5s-scheduled-10s-asked"),
        pytest.param(1, 5.5, id="5s-scheduled-5.5s-asked"),
        pytest.param(2, 600.0, id="60s-scheduled-600s-asked"),
        pytest.param(3, 3600.0, id="300s-scheduled-max-asked"),
    ],
)
def test_retry_after_is_a_minimum(status_code: int, attempt: int, retry_after_s: float) -> None:
    """429/503 with a longer Retry-After waits at least that long; jitter never shortens it."""
    result = AttemptResult(status_code=status_code, retry_after_s=retry_after_s)
    rng = seeded(attempt)
    scheduled_s = SCHEDULE_S[attempt]

    delays = [delay_s(step_after(result, attempt=attempt, rng=rng)) for _ in range(SAMPLES)]

    assert all(d >= retry_after_s for d in delays)
    assert all(d <= max(retry_after_s, scheduled_s * (1 + JITTER)) for d in delays)


@pytest.mark.parametrize("status_code", [pytest.param(429, id="429"), pytest.param(503, id="503")])
@pytest.mark.parametrize(
    ("retry_after_s", "retry_after_max_s"),
    [
        pytest.param(86_400.0, 3600.0, id="day-asked-hour-cap"),
        pytest.param(7200.0, 600.0, id="2h-asked-10m-cap"),
        pytest.param(1e12, 3600.0, id="absurd-asked"),
    ],
)
def test_retry_after_is_capped(
    status_code: int, retry_after_s: float, retry_after_max_s: float
) -> None:
    """A Retry-After beyond retry_after_max_s waits exactly the cap."""
    result = AttemptResult(status_code=status_code, retry_after_s=retry_after_s)
    rng = seeded(3)

    delays = {
        delay_s(step_after(result, attempt=1, retry_after_max_s=retry_after_max_s, rng=rng))
        for _ in range(50)
    }

    assert delays == {retry_after_max_s}


@pytest.mark.parametrize("status_code", [pytest.param(429, id="429"), pytest.param(503, id="503")])
@pytest.mark.parametrize(
    ("attempt", "retry_after_s"),
    [
        pytest.param(2, 1.0, id="60s-scheduled-1s-asked"),
        pytest.param(2, 0.0, id="60s-scheduled-0s-asked"),
        pytest.param(4, 60.0, id="1800s-scheduled-60s-asked"),
    ],
)
def test_shorter_retry_after_keeps_the_schedule(
    status_code: int, attempt: int, retry_after_s: float
) -> None:
    """A Retry-After shorter than the scheduled delay does not hurry the retry."""
    result = AttemptResult(status_code=status_code, retry_after_s=retry_after_s)
    rng = seeded(attempt)
    scheduled_s = SCHEDULE_S[attempt]

    delays = [delay_s(step_after(result, attempt=attempt, rng=rng)) for _ in range(SAMPLES)]

    assert all(scheduled_s * (1 - JITTER) <= d <= scheduled_s * (1 + JITTER) for d in delays)
    assert min(delays) < scheduled_s * (1 - JITTER / 2)


@pytest.mark.parametrize(
    "status_code",
    [
        pytest.param(500, id="500"),
        pytest.param(502, id="502"),
        pytest.param(400, id="400"),
    ],
)
def test_retry_after_is_ignored_on_other_statuses(status_code: int) -> None:
    """Retry-After on a status other than 429/503 leaves the schedule alone."""
    result = AttemptResult(status_code=status_code, retry_after_s=3000.0)
    rng = seeded(11)
    scheduled_s = SCHEDULE_S[1]

    delays = [delay_s(step_after(result, attempt=1, rng=rng)) for _ in range(SAMPLES)]

    assert all(scheduled_s * (1 - JITTER) <= d <= scheduled_s * (1 + JITTER) for d in delays)


def test_retry_after_does_not_outlive_the_schedule() -> None:
    """A 429 on the last attempt fails: Retry-After adds no attempts."""
    result = AttemptResult(status_code=429, retry_after_s=10.0)

    step = step_after(result, attempt=len(SCHEDULE_S))

    assert step.next is Next.FAILED


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("120", 120.0, id="delta-seconds"),
        pytest.param(" 120 ", 120.0, id="delta-seconds-padded"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("86400", 86400.0, id="a-day"),
        pytest.param("Tue, 04 Mar 2025 05:08:07 GMT", 120.0, id="http-date-future"),
        pytest.param("Tue, 04 Mar 2025 05:06:07 GMT", 0.0, id="http-date-now"),
        pytest.param("Tue, 04 Mar 2025 05:06:06 GMT", 0.0, id="http-date-second-ago"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", 0.0, id="http-date-long-past"),
        pytest.param("Tue, 04 Mar 2025 07:08:07 +0200", 120.0, id="date-with-offset"),
    ],
)
def test_parse_retry_after_reads_seconds_and_dates(value: str, expected: float) -> None:
    """Retry-After reads as delta-seconds or as the seconds until an HTTP date (0 if past)."""
    assert parse_retry_after(value, NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("soon", id="word"),
        pytest.param("1.5", id="fraction"),
        pytest.param("-1", id="negative"),
        pytest.param("1e3", id="exponent"),
        pytest.param("Tue, 31 Feb 2025 05:08:07 GMT", id="impossible-date"),
        pytest.param("Tue, 04 Mar 2025 25:08:07 GMT", id="impossible-hour"),
        pytest.param(
            "²",
            id="superscript-digit",
        ),
        pytest.param(
            "Tue, 04 Mar 2025 05:08:07 +99999999999999999999",
            id="huge-offset",
        ),
    ],
)
def test_parse_retry_after_ignores_garbage(value: str | None) -> None:
    """A missing or unreadable Retry-After reads as None."""
    assert parse_retry_after(value, NOW) is None


def test_retry_time_is_relative_to_now() -> None:
    """The retry time moves with the `now` passed in."""
    later = NOW + timedelta(hours=1)
    result = AttemptResult(status_code=500)

    here = next_step(
        result, attempt=1, schedule_s=SCHEDULE_S, retry_after_max_s=0.0, now=NOW, rng=seeded(1)
    )
    there = next_step(
        result, attempt=1, schedule_s=SCHEDULE_S, retry_after_max_s=0.0, now=later, rng=seeded(1)
    )

    assert here.at is not None
    assert there.at is not None
    assert there.at - here.at == timedelta(hours=1)
