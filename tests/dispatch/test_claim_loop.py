"""The shared claim loop, and the dispatcher on it, against an in-memory queue: no database,
no sleeps (a fake clock and recorded delays), every wait ended by an event the test sets."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pytest

from hookline.claimloop import ClaimLoop, LoopSettings
from hookline.dispatch import Dispatcher
from hookline.errors import Conflict
from hookline.handlers import HandlerSpec
from hookline.models import Completed, Failed, Outcome, SettleKind, Settlement, Task, TaskStatus
from hookline.retry import RetryPolicy
from tests.fakes import NOW, FixedClock, Wakeup, idle, until


@dataclass
class Queue:
    """An in-memory queue of items: `claim(n)` takes up to n; `failures` claims raise first."""

    pending: deque[int] = field(default_factory=deque)
    failures: int = 0
    claims: list[int] = field(default_factory=list)

    async def claim(self, limit: int) -> Sequence[int]:
        self.claims.append(limit)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database unreachable")
        return [self.pending.popleft() for _ in range(min(limit, len(self.pending)))]


@dataclass
class Harness:
    queue: Queue
    wakeup: Wakeup
    loop: ClaimLoop[int]
    stop: asyncio.Event
    gates: dict[int, asyncio.Event]
    started: list[int]
    slept: list[float]
    clock: list[float]

    def finish(self, item: int) -> None:
        self.gates[item].set()


@pytest.fixture
def make() -> Iterator[Callable[..., Harness]]:
    """`make(items, **settings)`: a loop over an in-memory queue, running until the test ends."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def build(items: Sequence[int] = (), **options: float) -> Harness:
        settings = {"concurrency": 4, "claim_size": 10, "poll_s": 1.0} | options
        gates: dict[int, asyncio.Event] = {}
        started: list[int] = []
        slept: list[float] = []
        clock = [1000.0]

        async def work(item: int) -> None:
            started.append(item)
            await gates.setdefault(item, asyncio.Event()).wait()

        async def sleep(delay_s: float) -> None:
            slept.append(delay_s)

        queue, wakeup = Queue(deque(items)), Wakeup()
        loop = ClaimLoop(
            LoopSettings(
                concurrency=int(settings["concurrency"]),
                claim_size=int(settings["claim_size"]),
                poll_s=settings["poll_s"],
                claim_interval_s=settings.get("claim_interval_s", 0.0),
                idle_poll_s=settings.get("idle_poll_s"),
            ),
            claim=queue.claim,
            work=work,
            wait_for_more=wakeup.wait,
            monotonic=lambda: clock[0],
            sleep=sleep,
        )
        for item in items:
            gates[item] = asyncio.Event()
        stop = asyncio.Event()
        running.append((stop, asyncio.create_task(loop.run(stop))))
        return Harness(queue, wakeup, loop, stop, gates, started, slept, clock)

    yield build
    for stop, _ in running:
        stop.set()


async def test_claims_never_ask_for_more_than_the_free_slots(make: Callable[..., Harness]) -> None:
    """With every slot busy the loop waits; each finished item frees one slot for one claim."""
    h = make(range(6), concurrency=3)
    await until(lambda: len(h.started) == 3)
    await idle()
    assert h.queue.claims == [3]
    h.finish(0)
    await until(lambda: len(h.started) == 4)
    assert h.queue.claims == [3, 1]
    h.finish(1)
    h.finish(2)
    await until(lambda: len(h.started) == 6)
    assert sum(h.queue.claims) >= 6
    assert all(n <= 3 for n in h.queue.claims)
    assert h.loop.inflight == [3, 4, 5]


async def test_claims_are_at_most_claim_size(make: Callable[..., Harness]) -> None:
    """With slots to spare, a claim asks for claim_size; a short one ends the round."""
    h = make(range(5), concurrency=10, claim_size=2)
    await until(lambda: len(h.started) == 5)
    await until(lambda: h.wakeup.waits == 1)
    assert h.queue.claims == [2, 2, 2]


async def test_an_empty_claim_waits_for_a_wake_up(make: Callable[..., Harness]) -> None:
    """Nothing to claim: one claim, then the loop waits (it does not claim again while idle)."""
    h = make(())
    await until(lambda: h.wakeup.waits == 1)
    await idle()
    assert h.queue.claims == [4]
    assert h.wakeup.waits == 1
    assert h.slept == []


async def test_a_wake_up_claims_at_once(make: Callable[..., Harness]) -> None:
    """Work announced to an idle loop is claimed without waiting out any delay."""
    h = make(())
    await until(lambda: h.wakeup.waits == 1)
    h.queue.pending.extend([7, 8])
    h.wakeup.wake()
    await until(lambda: h.started == [7, 8])
    assert h.queue.claims == [4, 4]
    assert h.slept == []


async def test_claims_after_a_wake_up_are_paced(make: Callable[..., Harness]) -> None:
    """Woken right after a claim, the loop waits out the rest of claim_interval_s first."""
    h = make((), claim_interval_s=0.5)
    await until(lambda: h.wakeup.waits == 1)
    h.clock[0] += 0.2
    h.wakeup.wake()
    await until(lambda: len(h.queue.claims) == 2)
    assert h.slept == [pytest.approx(0.3)]


async def _within(seconds: float, condition: Callable[[], bool]) -> None:
    """Wait (in real time, at most `seconds`) until `condition` holds."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - a timer, not an event, makes it hold
            await asyncio.sleep(0.005)


async def _poll(h: Harness, times: int) -> None:
    """End the loop's wait `times` times as if its poll time passed."""
    for _ in range(times):
        expected = h.wakeup.waits + 1
        h.wakeup.time_out()
        await until(lambda expected=expected: h.wakeup.waits == expected)


async def test_idle_polls_back_off_up_to_idle_poll_s(make: Callable[..., Harness]) -> None:
    """Each poll that finds nothing doubles the wait before the next, up to idle_poll_s."""
    h = make((), poll_s=1.0, idle_poll_s=5.0)
    await until(lambda: h.wakeup.waits == 1)
    await _poll(h, 5)
    assert h.wakeup.timeouts == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert h.loop.poll_wait_s == 5.0
    assert len(h.queue.claims) == 6  # one claim per wait: no claim in between


async def test_work_found_by_a_poll_starts_the_waits_again(make: Callable[..., Harness]) -> None:
    """A poll that claims something puts the wait back to poll_s."""
    h = make((), poll_s=1.0, idle_poll_s=8.0)
    await until(lambda: h.wakeup.waits == 1)
    await _poll(h, 3)
    h.queue.pending.append(1)
    await _poll(h, 1)
    assert h.started == [1]
    assert h.wakeup.timeouts == [1.0, 2.0, 4.0, 8.0, 1.0]


async def test_an_announcement_starts_the_waits_again(make: Callable[..., Harness]) -> None:
    """Woken by an announcement, the loop's next wait is poll_s even if the claim was empty."""
    h = make((), poll_s=1.0, idle_poll_s=8.0)
    await until(lambda: h.wakeup.waits == 1)
    await _poll(h, 2)
    h.wakeup.wake()
    await until(lambda: h.wakeup.waits == 4)
    assert h.wakeup.timeouts == [1.0, 2.0, 4.0, 1.0]


async def test_without_idle_poll_s_polls_keep_their_pace(make: Callable[..., Harness]) -> None:
    """No idle_poll_s (or one below poll_s): every wait is poll_s."""
    for idle_poll_s in (None, 0.5):
        h = make((), poll_s=1.0, idle_poll_s=idle_poll_s)
        await until(lambda h=h: h.wakeup.waits == 1)
        await _poll(h, 3)
        assert h.wakeup.timeouts == [1.0] * 4


async def test_wake_in_claims_when_the_time_comes(make: Callable[..., Harness]) -> None:
    """`wake_in` ends an idle wait after its delay (real time here: 20 ms)."""
    h = make(())
    await until(lambda: h.wakeup.waits == 1)
    h.queue.pending.append(3)
    began = time.monotonic()
    h.loop.wake_in(0.02)
    h.loop.wake_in(0.02)  # the same tick: one wake-up
    await _within(5, lambda: h.started == [3])
    assert time.monotonic() - began >= 0.02
    await until(lambda: h.wakeup.waits == 2)
    await asyncio.sleep(0.05)
    assert len(h.queue.claims) == 2


async def test_a_wake_up_during_a_claim_is_not_lost() -> None:
    """Woken while a claim runs (a retry's timer fired), the loop claims again at once
    rather than waiting for its poll: that claim may have been too early for the item."""
    claims: list[int] = []
    wakeup = Wakeup()
    loop: ClaimLoop[int]

    async def claim(limit: int) -> Sequence[int]:
        claims.append(limit)
        if len(claims) == 1:
            loop.wake()
        return []

    async def work(item: int) -> None:
        return None

    loop = ClaimLoop(
        LoopSettings(concurrency=4, claim_size=10, poll_s=1.0),
        claim=claim,
        work=work,
        wait_for_more=wakeup.wait,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    await until(lambda: wakeup.waits == 2)
    await idle()
    assert claims == [4, 4]
    stop.set()
    wakeup.wake()
    await running


async def test_stopping_cancels_wake_ups(make: Callable[..., Harness]) -> None:
    """A `wake_in` timer does not outlive the loop."""
    h = make(())
    await until(lambda: h.wakeup.waits == 1)
    h.loop.wake_in(30)
    assert len(h.loop._wakes) == 1
    h.stop.set()
    h.wakeup.wake()
    await until(lambda: not h.loop._wakes)


async def test_claim_errors_back_off_and_a_success_resets(make: Callable[..., Harness]) -> None:
    """Failed claims wait 1 s, 2 s, 4 s … before trying again; one success starts over."""
    h = make(())
    await until(lambda: h.wakeup.waits == 1)
    h.queue.failures = 3
    h.queue.pending.append(1)
    h.wakeup.wake()
    await until(lambda: h.started == [1])
    assert h.slept == [1.0, 2.0, 4.0]
    await until(lambda: h.wakeup.waits == 2)
    h.queue.failures = 1
    h.wakeup.wake()
    await until(lambda: h.wakeup.waits == 3)
    assert h.slept == [1.0, 2.0, 4.0, 1.0]


async def test_stop_ends_claiming_and_drain_waits_for_inflight(
    make: Callable[..., Harness],
) -> None:
    """After stop no claim starts; drain returns once in-flight items finish."""
    h = make(range(2))
    await until(lambda: len(h.started) == 2)
    await until(lambda: h.wakeup.waits == 1)
    h.stop.set()
    await idle()
    claims = list(h.queue.claims)
    drained = asyncio.create_task(h.loop.drain(60, cancel=False))
    await idle(20)
    assert not drained.done()
    h.finish(0)
    h.finish(1)
    assert await drained == []
    assert h.queue.claims == claims
    assert h.loop.inflight == []


async def test_drain_past_its_deadline_cancels_and_names_the_unfinished(
    make: Callable[..., Harness],
) -> None:
    """Items still running at the deadline are cancelled and returned (to be released)."""
    h = make(range(3))
    await until(lambda: len(h.started) == 3)
    h.finish(1)
    await until(lambda: len(h.loop.inflight) == 2)
    h.stop.set()
    assert await h.loop.drain(0, cancel=True) == [0, 2]
    assert h.loop.inflight == []


def new_task(task_id: str, task_type: str = "fake") -> Task:
    return Task(
        id=task_id,
        type=task_type,
        status=TaskStatus.PENDING,
        instruction=None,
        params={},
        response=None,
        error=None,
        metadata={},
        tags=None,
        unique_id=None,
        project=None,
        batch=None,
        callback_url=None,
        callback_completed=False,
        times_redone=0,
        priority=None,
        customer_review_status=None,
        created_at=NOW,
        updated_at=NOW,
        completed_at=None,
        attempts=1,
    )


@dataclass
class TaskQueue:
    """An in-memory `ports.TaskQueue`: claims pending tasks, records settles and releases."""

    pending: deque[Task] = field(default_factory=deque)
    settled: list[Settlement] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    lost: set[str] = field(default_factory=set)

    async def claim(
        self, *, worker: str, lease_s: float, limit: int, types: Sequence[str] | None = None
    ) -> Sequence[Task]:
        return [self.pending.popleft() for _ in range(min(limit, len(self.pending)))]

    async def extend(self, worker: str, task_ids: Sequence[str], *, lease_s: float) -> int:
        return len(task_ids)

    async def release(self, worker: str, task_ids: Sequence[str], *, reason: str) -> int:
        self.released.extend(task_ids)
        return len(task_ids)

    async def settle(self, worker: str, settlement: Settlement) -> Task:
        if settlement.task_id in self.lost:
            raise Conflict("lease lost")
        self.settled.append(settlement)
        done = settlement.kind is SettleKind.COMPLETE
        status = TaskStatus.COMPLETED if done else TaskStatus.PENDING
        return dataclasses.replace(new_task(settlement.task_id), status=status)


@dataclass
class FakeStore:
    """What `Dispatcher` needs of a store (`ports.DispatchStore`), in memory."""

    work: TaskQueue
    signals: Wakeup
    db: FixedClock


def dispatcher(queue: TaskQueue, wakeup: Wakeup, handler: Callable[[Task], object]) -> Dispatcher:
    async def run(task: Task) -> Outcome:
        result = handler(task)
        if isinstance(result, asyncio.Event):
            await result.wait()
        return Completed(response={"id": task.id})

    spec = HandlerSpec("fake", run, 30.0, RetryPolicy(), "fake handler")
    store = FakeStore(work=queue, signals=wakeup, db=FixedClock())
    return Dispatcher(store, {"fake": spec}, worker="w", concurrency=2, lease_s=30, drain_s=0)


async def test_dispatcher_settles_claimed_tasks_from_a_fake_queue() -> None:
    """Each claimed task is worked and settled complete, a lost lease is only logged."""
    queue, wakeup = TaskQueue(deque([new_task("a"), new_task("b"), new_task("c")])), Wakeup()
    queue.lost.add("b")
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher(queue, wakeup, lambda t: None).run(stop))
    await until(lambda: len(queue.settled) == 2)
    await until(lambda: wakeup.waits == 1)
    stop.set()
    await running
    assert [(s.task_id, s.kind) for s in queue.settled] == [
        ("a", SettleKind.COMPLETE),
        ("c", SettleKind.COMPLETE),
    ]
    assert queue.released == []


async def test_dispatcher_claims_a_retry_when_it_comes_due() -> None:
    """A failed attempt's retry is claimed at its time, though no poll or signal comes."""
    attempts: list[str] = []

    async def flaky(task: Task) -> Outcome:
        attempts.append(task.id)
        if len(attempts) == 1:
            return Failed(error="try again", retryable=True)
        return Completed(response={})

    queue, wakeup = TaskQueue(deque([new_task("a")])), Wakeup()
    spec = HandlerSpec("fake", flaky, 30.0, RetryPolicy(backoff_s=0.02), "fake handler")
    store = FakeStore(work=queue, signals=wakeup, db=FixedClock())
    worker = Dispatcher(store, {"fake": spec}, worker="w", concurrency=2, lease_s=30, drain_s=0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await until(lambda: len(queue.settled) == 1)
    assert queue.settled[0].kind is SettleKind.TRY_LATER
    queue.pending.append(new_task("a"))  # the store would make it claimable at retry_at
    await _within(5, lambda: len(queue.settled) == 2)
    stop.set()
    wakeup.wake()
    await running
    assert [s.kind for s in queue.settled] == [SettleKind.TRY_LATER, SettleKind.COMPLETE]
    assert attempts == ["a", "a"]


async def test_dispatcher_stopping_releases_what_is_still_running() -> None:
    """Stopped with handlers still running past drain_s, the dispatcher releases their leases."""
    gate = asyncio.Event()
    queue, wakeup = TaskQueue(deque([new_task("a"), new_task("b"), new_task("c")])), Wakeup()
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher(queue, wakeup, lambda t: gate).run(stop))
    await until(lambda: len(queue.pending) == 1)
    await idle()
    assert len(queue.pending) == 1  # concurrency 2: the third task waits for a slot
    stop.set()
    await running
    assert sorted(queue.released) == ["a", "b"]
    assert queue.settled == []
