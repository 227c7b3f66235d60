"""The claim loop the dispatcher and the callback sender share.

While slots are free it claims up to `claim_size` items (never more than the
free slots), starts each as an asyncio task, and, when a claim comes back
short, sleeps until it is woken (a NOTIFY, an in-process signal, a `wake_in`
timer, or the poll time passing) or, if the claim held work back, until a
slot frees. The poll is the fallback for what nothing announces: while polls
find nothing its wait doubles from `poll_s` up to `idle_poll_s`, so an idle
process hardly wakes; any work or announcement starts it again at `poll_s`.
After a wake-up claims are spaced by a `Pacer`; a failed claim backs off
(`Backoff`). Stopping ends the loop; `drain` then waits for what is in
flight. What is claimed, and how an item is worked, is the caller's: the loop
knows neither tasks nor deliveries.
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
    idle_poll_s: float | None = None
    """While polls find nothing, the wait between them doubles from `poll_s` up to this
    (never below `poll_s`); None keeps it at `poll_s`."""


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
        self._wakes: dict[int, asyncio.TimerHandle] = {}
        """`wake_in` timers, by the 10 ms tick they fire in."""
        self._poll_wait_s = settings.poll_s
        self._idle_poll_s = max(settings.poll_s, settings.idle_poll_s or settings.poll_s)

    @property
    def inflight(self) -> list[T]:
        """The items started and not yet finished, oldest first."""
        return list(self._inflight.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and start items until `stop` is set (in-flight ones go on: see `drain`)."""
        polled = False
        """Whether the last wait ended only because the poll time passed."""
        try:
            while not stop.is_set():
                free = self._settings.concurrency - len(self._inflight)
                if free <= 0:
                    self._slot_freed.clear()
                    await first_of(stop.wait(), self._slot_freed.wait())
                    polled = False
                    continue
                want = min(free, self._settings.claim_size)
                # A wake-up from here on is for work this claim may miss: it ends the wait.
                self._woken.clear()
                claimed = await self._claim_once(want, stop)
                if claimed is None:
                    continue
                for item in claimed:
                    self._start(item)
                if polled and not claimed:
                    self._poll_wait_s = min(2 * self._poll_wait_s, self._idle_poll_s)
                else:
                    self._poll_wait_s = self._settings.poll_s
                polled = False
                if len(claimed) < want:
                    polled = await self._idle(stop)
        finally:
            for handle in self._wakes.values():
                handle.cancel()
            self._wakes.clear()

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

    @property
    def poll_wait_s(self) -> float:
        """How long the loop waits, when idle, before it polls."""
        return self._poll_wait_s

    async def _idle(self, stop: asyncio.Event) -> bool:
        """After a short claim: wait to be woken, then for the pacer. True if nothing
        woke the loop but the poll time passing."""
        polled = False

        async def poll_time() -> None:
            nonlocal polled
            polled = not await self._wait_for_more(self._poll_wait_s)

        waits: list[Awaitable[object]] = [stop.wait(), poll_time(), self._woken.wait()]
        if self._held_back():
            # The claim left work out because of what runs now; a slot freed lets it in.
            self._slot_freed.clear()
            waits.append(self._slot_freed.wait())
        await first_of(*waits)
        delay = self._pacer.wait_s()
        if delay > 0:
            await self._sleep(delay)
        return polled

    def wake(self) -> None:
        """Claim again now, or as soon as the claim under way ends (the caller knows work
        is due, e.g. a retry's time came)."""
        self._woken.set()

    def wake_in(self, delay_s: float) -> None:
        """Claim when `delay_s` has passed (5 ms after, so the item is due by then): for
        work whose time nothing else announces, such as a retry this process scheduled.
        Wake-ups that fall in one 10 ms tick are one; stopping cancels them."""
        delay_s = max(delay_s, 0.0)
        tick = int((time.monotonic() + delay_s) * 100)
        if tick in self._wakes:
            return

        def wake() -> None:
            del self._wakes[tick]
            self.wake()

        self._wakes[tick] = asyncio.get_running_loop().call_later(delay_s + 0.005, wake)

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
