"""Small asyncio helpers shared by the long-running loops."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def first_of(*aws: Awaitable[Any]) -> None:
    """Wait until the first of these awaitables finishes; cancel the rest."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Backoff:
    """Delays after consecutive failures: 1 s, 2 s, 4 s … capped at `max_s`; reset on success."""

    def __init__(self, *, base_s: float = 0.5, max_s: float = 30.0) -> None:
        self._base_s = base_s
        self._max_s = max_s
        self._failures = 0

    def reset(self) -> None:
        self._failures = 0

    def next_delay(self) -> float:
        self._failures += 1
        return min(self._max_s, self._base_s * math.pow(2, min(self._failures, 10)))


class Pacer:
    """Spaces a loop's claims at least `interval_s` apart after a wake-up.

    Work that arrives as a stream (one NOTIFY per committed batch of creates)
    would otherwise be claimed a few rows at a time, each claim a transaction;
    waiting out the rest of the interval lets it gather into one claim. The
    first claim after a quiet spell goes at once, so an idle system adds no delay.
    """

    def __init__(
        self, interval_s: float, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval_s = interval_s
        self._monotonic = monotonic
        self._last = -math.inf

    def claimed(self) -> None:
        """A claim starts now."""
        self._last = self._monotonic()

    def wait_s(self) -> float:
        """How long until the next claim may start."""
        return max(0.0, self._last + self._interval_s - self._monotonic())
