"""Token buckets: how many requests a key or an address may make, and when it may again.

Pure: the caller passes `now` (seconds on a monotonic clock) to every call.
A bucket holds up to `burst` tokens and gains `per_s` a second; a request
takes one. `Buckets` keeps one bucket per key in a bounded map: a bucket that
has filled up again is the same as no bucket and is dropped, and beyond
`max_keys` the least recently charged bucket is dropped (that key starts
afresh), so that many distinct keys cannot grow memory without bound.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """A bucket's refill rate and size."""

    per_s: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_s <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs per_s > 0 and burst >= 1, got {self!r}")


def refill(tokens: float, elapsed_s: float, rate: Rate) -> float:
    """The tokens in a bucket `elapsed_s` after it held `tokens`."""
    return min(float(rate.burst), tokens + max(0.0, elapsed_s) * rate.per_s)


def wait_s(tokens: float, rate: Rate) -> float:
    """Seconds until a bucket holding `tokens` has a whole token (0.0: it has one now)."""
    return 0.0 if tokens >= 1 else (1 - tokens) / rate.per_s


def retry_after_s(wait: float) -> int:
    """A `Retry-After` value for a wait: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait))


class Buckets:
    """One token bucket per key, at most `max_keys` of them."""

    def __init__(self, rate: Rate, *, max_keys: int) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys}")
        self.rate = rate
        self._max_keys = max_keys
        # key -> (tokens, when they were counted); least recently charged first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def tokens(self, key: str, now: float) -> float:
        """The tokens `key` holds now (`burst` for a key without a bucket)."""
        held = self._buckets.get(key)
        if held is None:
            return float(self.rate.burst)
        return refill(held[0], now - held[1], self.rate)

    def wait(self, key: str, now: float) -> float:
        """Seconds until `key` may make a request (0.0: now); takes nothing."""
        return wait_s(self.tokens(key, now), self.rate)

    def take(self, key: str, now: float) -> float:
        """Take a token if there is one: 0.0 when taken, else the seconds to wait (nothing taken)."""
        tokens = self.tokens(key, now)
        if tokens < 1:
            return wait_s(tokens, self.rate)
        self._store(key, tokens - 1, now)
        return 0.0

    def spend(self, key: str, now: float) -> float:
        """Take a token whether or not there is one (down to `-burst`); the seconds to wait after.

        For facts that already happened, such as a failed authentication: a
        burst of them that got past `wait` together still counts in full.
        """
        tokens = max(-float(self.rate.burst), self.tokens(key, now) - 1)
        self._store(key, tokens, now)
        return wait_s(tokens, self.rate)

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        self._evict(now)

    def _evict(self, now: float) -> None:
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        # Each bucket is dropped at most once, so this loop costs O(1) per call on average.
        while self._buckets:
            key, (tokens, counted) = next(iter(self._buckets.items()))
            if refill(tokens, now - counted, self.rate) < self.rate.burst:
                break
            del self._buckets[key]
