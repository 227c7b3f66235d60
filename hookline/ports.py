"""What the dispatcher and the callback sender use of the store, as narrow protocols.

`Store` satisfies them (`store.work`, `store.deliveries`, `store.signals`,
`store.db`); so does an in-memory fake, which is how the loops are tested
without a database (tests/dispatch/test_claim_loop.py, tests/callbacks/test_sender_fake.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from hookline.models import DueDelivery, Settlement, Task

if TYPE_CHECKING:
    from hookline.store.deliveries import AttemptRecord


class Clocked(Protocol):
    """The store's database, as far as the loops see it: its clock."""

    @property
    def clock(self) -> Callable[[], datetime]: ...


class TaskQueue(Protocol):
    """Where the dispatcher claims tasks, keeps their leases, and settles or gives them back."""

    async def claim(
        self, *, worker: str, lease_s: float, limit: int, types: Sequence[str] | None = None
    ) -> Sequence[Task]: ...

    async def extend(self, worker: str, task_ids: Sequence[str], *, lease_s: float) -> int: ...

    async def release(self, worker: str, task_ids: Sequence[str], *, reason: str) -> int: ...

    async def settle(self, worker: str, settlement: Settlement) -> Task:
        """Raises `Conflict` when the lease was lost."""
        ...


class WorkSignals(Protocol):
    async def wait_for_work(self, timeout_s: float) -> bool:
        """Wait until work is announced or `timeout_s` passes."""
        ...


class DispatchStore(Protocol):
    """What the dispatcher uses of the store."""

    @property
    def work(self) -> TaskQueue: ...

    @property
    def signals(self) -> WorkSignals: ...

    @property
    def db(self) -> Clocked: ...


class DeliveryOutbox(Protocol):
    """Where the sender claims due deliveries and records each attempt."""

    async def claim(
        self, *, worker: str, limit: int, lease_s: float, skip_hosts: Sequence[str] = ()
    ) -> Sequence[DueDelivery]: ...

    async def record(self, worker: str, outcome: AttemptRecord) -> None: ...


class CallbackSignals(Protocol):
    async def wait_for_callbacks(self, timeout_s: float) -> bool:
        """Wait until a callback is enqueued or `timeout_s` passes."""
        ...


class SenderStore(Protocol):
    """What the sender uses of the store."""

    @property
    def deliveries(self) -> DeliveryOutbox: ...

    @property
    def signals(self) -> CallbackSignals: ...

    @property
    def db(self) -> Clocked: ...
