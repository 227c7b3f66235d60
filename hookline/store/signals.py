"""In-process wake-ups: new work for the dispatcher, changes for long-polling readers.

These are hints within one process; other processes poll (and, on PostgreSQL,
also hear NOTIFY). Nothing relies on a hint arriving.

A process that runs a dispatcher (or a callback sender) picks up the work it
makes itself, so it does not NOTIFY the others of it: every notification wakes
every listening process, and each wake-up costs a claim.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from hookline.models import JSON, DueDelivery


@dataclass(frozen=True, slots=True)
class Inline:
    """A handler this process's dispatcher runs inside the transaction that creates a task
    of its type: the task is stored claimed by `worker` and completed with
    `respond(params)`, with its created, claimed and completed events and its callback,
    all in that one commit. Only pure handlers (`HandlerSpec.inline`) qualify."""

    worker: str
    respond: Callable[[JSON], JSON]


class Handoff(Protocol):
    """This process's callback sender, taking new deliveries straight from the transaction
    that creates them: no claim transaction, and no wait for a wake-up.

    `take` reserves a slot for each delivery it accepts (the sender's concurrency and
    per-host caps hold); the transaction then writes those deliveries already leased to
    `worker`, and `give` starts them once it commits, or `cancel` frees the slots if it
    does not. A process that dies in between loses nothing: the lease expires and
    the lease sweep makes the delivery due again.
    """

    worker: str
    lease_s: float

    def take(self, hosts: Sequence[str]) -> list[bool]:
        """For each delivery (by its host), whether the sender takes it now."""
        ...

    def give(self, due: Sequence[DueDelivery]) -> None: ...

    def cancel(self, hosts: Sequence[str]) -> None: ...


class Signals:
    def __init__(self) -> None:
        self._work = asyncio.Event()
        self._callbacks = asyncio.Event()
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self.dispatching = False
        """A dispatcher runs in this process: new tasks need no NOTIFY."""
        self.sending = False
        """A callback sender runs in this process: new deliveries need no NOTIFY."""
        self.inline: dict[str, Inline] = {}
        """Task types completed at create by this process's dispatcher (see `Inline`)."""
        self.handoff: Handoff | None = None
        """This process's sender, when it takes new deliveries directly (see `Handoff`)."""

    def work_available(self) -> None:
        self._work.set()

    def callbacks_due(self) -> None:
        self._callbacks.set()

    async def wait_for_work(self, timeout_s: float) -> bool:
        """Wait until work is announced or `timeout_s` passes; True if announced."""
        return await _wait(self._work, timeout_s)

    async def wait_for_callbacks(self, timeout_s: float) -> bool:
        """Wait until a callback is enqueued or `timeout_s` passes; True if announced."""
        return await _wait(self._callbacks, timeout_s)

    def tasks_changed(self, task_ids: Iterable[str]) -> None:
        for task_id in task_ids:
            for event in self._watchers.get(task_id, ()):
                event.set()

    @contextmanager
    def watch(self, task_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever this process changes the task."""
        event = asyncio.Event()
        self._watchers.setdefault(task_id, set()).add(event)
        try:
            yield event
        finally:
            watchers = self._watchers.get(task_id)
            if watchers is not None:
                watchers.discard(event)
                if not watchers:
                    del self._watchers[task_id]


async def _wait(event: asyncio.Event, timeout_s: float) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    finally:
        event.clear()
    return True
