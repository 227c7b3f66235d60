"""The claim loop the dispatcher and the callback sender share.

While slots are free it claims up to `claim_size` items (never more than the
free slots), starts each as an asyncio task, and, when a claim comes back
short, sleeps until it is woken (a NOTIFY, or `poll_s` passing) or, if the
claim held work back, until a slot frees. After a wake-up claims are spaced
by a `Pacer`; a failed claim backs off (`Backoff`). Stopping ends the loop;
`drain` then waits for what is in flight. What is claimed, and how an item is
worked, is the caller's: the loop knows neither tasks nor deliveries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog

from hookline.aio import Backoff, Pacer, first_of

T = TypeVar("T")

Claim = Callable[[int], Awaitable[Sequence[T]]]
"""Claim at most this many items; fewer (or none) when there are no more."""
Work = Callable[[T], Coroutine[Any, Any, None]]
"""Work one claimed item to its end (it never raises: failures are the worker's to settle)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopSettings:
    concurrency: int
    """Items in flight at most."""
    claim_size: int
    """Items claimed per claim at most."""
    poll_s: float
    """After a short claim, claim again after this long even if nothing announces work."""
    claim_interval_s: float = 0.0
    """After a wake-up, claims start at least this far apart (see `Pacer`)."""


class ClaimLoop(Generic[T]):
    """Claims and starts items until stopped; `inflight` is what runs now."""

    def __init__(
        self,
        settings: LoopSettings,
        *,
        claim: Claim[T],
        work: Work[T],
        wait_for_more: Callable[[float], Awaitable[object]],
        held_back: Callable[[], bool] = lambda: False,
        log: structlog.typing.FilteringBoundLogger | None = None,
        failed_event: str = "claim_failed",
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff: Backoff | None = None,
    ) -> None:
        self._settings = settings
        self._claim = claim
        self._work = work
        self._wait_for_more = wait_for_more
        self._held_back = held_back
        self._log = log or structlog.get_logger("hookline.claimloop")
        self._failed_event = failed_event
        self._pacer = Pacer(settings.claim_interval_s, monotonic=monotonic)
        self._sleep = sleep
        self._backoff = backoff or Backoff()
        self._inflight: dict[asyncio.Task[None], T] = {}
        self._slot_freed = asyncio.Event()
        self._woken = asyncio.Event()

    @property
    def inflight(self) -> list[T]:
        """The items started and not yet finished, oldest first."""
        return list(self._inflight.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and start items until `stop` is set (in-flight ones go on: see `drain`)."""
        while not stop.is_set():
            free = self._settings.concurrency - len(self._inflight)
            if free <= 0:
                self._slot_freed.clear()
                await first_of(stop.wait(), self._slot_freed.wait())
                continue
            want = min(free, self._settings.claim_size)
            claimed = await self._claim_once(want, stop)
            if claimed is None:
                continue
            for item in claimed:
                self._start(item)
            if len(claimed) < want:
                await self._idle(stop)

    async def _claim_once(self, want: int, stop: asyncio.Event) -> Sequence[T] | None:
        """One claim; None after a failure (logged, and waited out with backoff)."""
        self._pacer.claimed()
        try:
            claimed = await self._claim(want)
        except Exception:  # noqa: BLE001 - the top-level loop: logged, backed off, goes on
            delay = self._backoff.next_delay()
            self._log.exception(self._failed_event, retry_in_s=delay)
            await first_of(stop.wait(), self._sleep(delay))
            return None
        self._backoff.reset()
        return claimed

    async def _idle(self, stop: asyncio.Event) -> None:
        """After a short claim: wait to be woken, then for the pacer."""
        self._woken.clear()
        waits: list[Awaitable[object]] = [
            stop.wait(),
            self._wait_for_more(self._settings.poll_s),
            self._woken.wait(),
        ]
        if self._held_back():
            # The claim left work out because of what runs now; a slot freed lets it in.
            self._slot_freed.clear()
            waits.append(self._slot_freed.wait())
        await first_of(*waits)
        delay = self._pacer.wait_s()
        if delay > 0:
            await self._sleep(delay)

    def wake(self) -> None:
        """Claim now if idle (the caller knows work is due, e.g. a retry's time came)."""
        self._woken.set()

    def start(self, item: T) -> None:
        """Work an item claimed elsewhere (it takes a slot like a claimed one)."""
        self._start(item)

    def _start(self, item: T) -> None:
        runner = asyncio.create_task(self._work(item))
        self._inflight[runner] = item
        runner.add_done_callback(self._finished)

    def _finished(self, runner: asyncio.Task[None]) -> None:
        self._inflight.pop(runner, None)
        self._slot_freed.set()

    async def drain(self, timeout_s: float, *, cancel: bool) -> list[T]:
        """Wait up to `timeout_s` for in-flight items; the ones still running, which are
        cancelled (and waited for) if `cancel`."""
        if not self._inflight:
            return []
        _, pending = await asyncio.wait(list(self._inflight), timeout=timeout_s)
        unfinished = [item for runner, item in self._inflight.items() if runner in pending]
        if cancel and pending:
            for runner in pending:
                runner.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        return unfinished
