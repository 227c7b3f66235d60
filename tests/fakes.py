"""In-memory stand-ins for the loops' edges: turns of the event loop instead of time, and
announcements the test makes itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


async def until(condition: Callable[[], bool], turns: int = 1000) -> None:
    """Let the event loop run until `condition` holds (a bounded number of turns, no time)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def idle(turns: int = 200) -> None:
    """Let the event loop run a while: a busy loop would claim again meanwhile."""
    for _ in range(turns):
        await asyncio.sleep(0)


class Wakeup:
    """A fake announcement: `wait` returns only when the test calls `wake` (True) or
    `time_out` (False, as if its timeout passed); never on time by itself."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._announced = True
        self.waits = 0
        self.timeouts: list[float] = []
        """The timeout of each wait, in order."""

    async def wait(self, timeout_s: float) -> bool:
        self.waits += 1
        self.timeouts.append(timeout_s)
        await self._event.wait()
        self._event.clear()
        return self._announced

    def wake(self) -> None:
        self._announced = True
        self._event.set()

    def time_out(self) -> None:
        self._announced = False
        self._event.set()

    # As the store's signals: work and callbacks are announced alike here.
    wait_for_work = wait
    wait_for_callbacks = wait


NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FixedClock:
    """As the store's `db`: a clock that always says `NOW`."""

    clock: Callable[[], datetime] = lambda: NOW
