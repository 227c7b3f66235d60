"""Token buckets: refill, waits, Retry-After values and the bounded map of buckets."""

from __future__ import annotations

import pytest

from hookline.ratelimit import Buckets, Rate, refill, retry_after_s, wait_s

TEN_A_SECOND = Rate(per_s=10, burst=5)


@pytest.mark.parametrize(
    ("tokens", "elapsed_s", "expected"),
    [
        pytest.param(0.0, 0.0, 0.0, id="no-time-no-tokens"),
        pytest.param(0.0, 0.25, 2.5, id="partial-refill"),
        pytest.param(4.0, 10.0, 5.0, id="capped-at-burst"),
        pytest.param(-3.0, 0.5, 2.0, id="debt-paid-back-first"),
        pytest.param(2.0, -1.0, 2.0, id="clock-going-back-adds-nothing"),
    ],
)
def test_refill(tokens: float, elapsed_s: float, expected: float) -> None:
    """A bucket gains per_s tokens a second, up to burst."""
    assert refill(tokens, elapsed_s, TEN_A_SECOND) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        pytest.param(1.0, 0.0, id="one-token-no-wait"),
        pytest.param(3.5, 0.0, id="several-tokens-no-wait"),
        pytest.param(0.5, 0.05, id="half-a-token"),
        pytest.param(0.0, 0.1, id="empty"),
        pytest.param(-4.0, 0.5, id="in-debt"),
    ],
)
def test_wait_s(tokens: float, expected: float) -> None:
    """The wait is the time until the bucket holds one whole token."""
    assert wait_s(tokens, TEN_A_SECOND) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("wait", "expected"),
    [
        pytest.param(0.001, 1, id="tiny-wait-is-one-second"),
        pytest.param(1.0, 1, id="exact-second"),
        pytest.param(1.01, 2, id="rounded-up"),
        pytest.param(59.5, 60, id="long"),
    ],
)
def test_retry_after_s(wait: float, expected: int) -> None:
    """Retry-After is whole seconds, rounded up, and never 0."""
    assert retry_after_s(wait) == expected


@pytest.mark.parametrize(
    ("per_s", "burst"),
    [
        pytest.param(0.0, 5, id="zero-rate"),
        pytest.param(-1.0, 5, id="negative-rate"),
        pytest.param(1.0, 0, id="zero-burst"),
    ],
)
def test_a_rate_needs_a_positive_rate_and_burst(per_s: float, burst: int) -> None:
    """A rate that could never grant a request is refused."""
    with pytest.raises(ValueError, match="per_s > 0 and burst >= 1"):
        Rate(per_s=per_s, burst=burst)


def test_take_grants_a_burst_then_refuses_with_the_wait() -> None:
    """A new key gets burst requests at once; the next one is told how long to wait."""
    buckets = Buckets(TEN_A_SECOND, max_keys=10)
    assert [buckets.take("k", 0.0) for _ in range(5)] == [0.0] * 5
    assert buckets.take("k", 0.0) == pytest.approx(0.1)
    assert buckets.take("k", 0.05) == pytest.approx(0.05)  # a refusal takes nothing
    assert buckets.take("k", 0.1) == 0.0
    assert buckets.take("k", 0.1) > 0


def test_keys_have_separate_buckets() -> None:
    """One key using up its bucket leaves another key's alone."""
    buckets = Buckets(Rate(per_s=1, burst=1), max_keys=10)
    assert buckets.take("a", 0.0) == 0.0
    assert buckets.take("a", 0.0) > 0
    assert buckets.take("b", 0.0) == 0.0


def test_wait_takes_nothing_and_stores_nothing() -> None:
    """Asking for the wait of an unknown key neither charges it nor remembers it."""
    buckets = Buckets(Rate(per_s=1, burst=1), max_keys=10)
    assert buckets.wait("a", 0.0) == 0.0
    assert len(buckets) == 0
    assert buckets.take("a", 0.0) == 0.0


@pytest.mark.parametrize(
    ("failures", "expected_wait"),
    [
        pytest.param(2, 0.0, id="under-the-limit"),
        pytest.param(3, 20.0, id="at-the-limit"),
        pytest.param(5, 60.0, id="over-the-limit-counts-in-full"),
        pytest.param(50, 80.0, id="debt-is-capped-at-one-burst"),
    ],
)
def test_spend_counts_every_failure(failures: int, expected_wait: float) -> None:
    """Spend charges even an empty bucket, so a burst that got in together counts in full."""
    buckets = Buckets(Rate(per_s=3 / 60, burst=3), max_keys=10)
    waits = [buckets.spend("addr", 0.0) for _ in range(failures)]
    assert waits[-1] == pytest.approx(expected_wait)
    assert buckets.wait("addr", 0.0) == pytest.approx(expected_wait)


def test_a_refilled_bucket_is_forgotten() -> None:
    """Buckets that have filled up again are dropped: they hold nothing a new one would not."""
    buckets = Buckets(Rate(per_s=1, burst=2), max_keys=100)
    for i in range(50):
        buckets.take(f"idle-{i}", 0.0)
    assert len(buckets) == 50
    buckets.take("busy", 1.0)  # idle-* are full again at t=1
    assert len(buckets) == 1
    assert buckets.tokens("busy", 1.0) == 1.0


def test_the_number_of_buckets_is_capped() -> None:
    """A flood of distinct keys keeps at most max_keys buckets, dropping the least recent."""
    buckets = Buckets(Rate(per_s=1, burst=1), max_keys=3)
    for i in range(1000):
        buckets.spend(f"addr-{i}", 0.0)
    assert len(buckets) == 3
    assert buckets.wait("addr-999", 0.0) > 0
    assert buckets.wait("addr-0", 0.0) == 0.0  # forgotten: it starts afresh


@pytest.mark.parametrize("max_keys", [0, -1])
def test_max_keys_must_be_positive(max_keys: int) -> None:
    """A map that may hold no bucket is refused."""
    with pytest.raises(ValueError, match="max_keys"):
        Buckets(TEN_A_SECOND, max_keys=max_keys)
