"""Two shortcuts of a process that dispatches and sends: a pure handler completes its task in
the create transaction (`signals.Inline`), and a new delivery goes to the process's sender
from the transaction that creates it (`signals.Handoff`). Both keep the trail and the
outbox exactly as the long way writes them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from hookline.errors import StoreFailed
from hookline.handlers.base import echo_response
from hookline.models import JSON, DueDelivery, EventFilter, TaskStatus
from hookline.store import Store
from hookline.store.signals import Inline
from hookline.store.tables import deliveries
from tests.conftest import Account, new_task

CALLBACK = "http://127.0.0.1:9/cb"


def a_type() -> str:
    """A task type of this test alone: claims span every account in the shared database."""
    return f"inline-{uuid.uuid4().hex[:8]}"


@dataclass
class FakeHandoff:
    """A sender that takes the first `slots` deliveries and records what it is given."""

    slots: int
    worker: str = "sender-1"
    lease_s: float = 30.0
    given: list[DueDelivery] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    asked: list[list[str]] = field(default_factory=list)

    def take(self, hosts: Sequence[str]) -> list[bool]:
        self.asked.append(list(hosts))
        taken = [i < self.slots for i in range(len(hosts))]
        self.slots -= sum(taken)
        return taken

    def give(self, due: Sequence[DueDelivery]) -> None:
        self.given.extend(due)

    def cancel(self, hosts: Sequence[str]) -> None:
        self.cancelled.extend(hosts)


async def _deliveries_of(store: Store, task_id: str) -> list[dict[str, Any]]:
    async with store.db.read() as conn:
        rows = (
            (await conn.execute(sa.select(deliveries).where(deliveries.c.task_id == task_id)))
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


async def _actions(
    store: Store, account: Account, task_id: str, *, test: bool = False
) -> list[tuple[str, str]]:
    """(action, actor) of the task's trail, read with the account's live (or test) key."""
    events, _ = await store.events.events(
        account.test if test else account.live,
        EventFilter(task_id=task_id),
        after_id=None,
        limit=50,
    )
    return [(e.action, e.actor) for e in events]


async def test_an_inline_handler_completes_the_task_in_its_create(
    store: Store, account: Account
) -> None:
    kind = a_type()
    store.signals.inline = {kind: Inline(worker="dispatcher-1", respond=echo_response)}
    task = await store.tasks.create(
        account.live, new_task(kind, params={"n": 1}, callback_url=CALLBACK)
    )
    assert task.status is TaskStatus.COMPLETED
    assert task.response == {"echo": {"n": 1}}
    assert task.attempts == 1
    assert [a for a, _ in await _actions(store, account, task.id)] == [
        "created",
        "claimed",
        "completed",
    ]
    assert [a for _, a in (await _actions(store, account, task.id))[1:]] == ["dispatcher-1"] * 2
    [delivery] = await _deliveries_of(store, task.id)
    assert delivery["event"] == "task.completed"
    assert delivery["status"] == "pending"  # no handoff registered: the sender claims it
    # Nothing is left for the dispatcher.
    assert await store.work.claim(worker="w", lease_s=30, limit=10, types=[kind]) == []


async def test_other_types_and_test_keys_take_the_usual_path(
    store: Store, account: Account
) -> None:
    store.signals.inline = {"echo": Inline(worker="dispatcher-1", respond=echo_response)}
    other = await store.tasks.create(account.live, new_task("categorization"))
    assert other.status is TaskStatus.PENDING
    assert other.attempts == 0
    sample = await store.tasks.create(account.test, new_task("echo"), completed_response={"x": 1})
    assert sample.response == {"x": 1}
    actions = [a for a, _ in await _actions(store, account, sample.id, test=True)]
    assert actions == ["created", "completed"]


async def test_an_inline_handler_that_raises_leaves_the_task_to_the_dispatcher(
    store: Store, account: Account
) -> None:
    def broken(params: JSON) -> JSON:
        raise RuntimeError("no")

    kind = a_type()
    store.signals.inline = {kind: Inline(worker="dispatcher-1", respond=broken)}
    task = await store.tasks.create(account.live, new_task(kind))
    assert task.status is TaskStatus.PENDING
    claimed = await store.work.claim(worker="w", lease_s=30, limit=10, types=[kind])
    assert [t.id for t in claimed] == [task.id]


async def test_the_sender_takes_new_deliveries_leased_from_their_transaction(
    store: Store, account: Account
) -> None:
    handoff = FakeHandoff(slots=1)
    store.signals.handoff = handoff
    store.signals.inline = {"echo": Inline(worker="dispatcher-1", respond=echo_response)}
    first = await store.tasks.create(account.live, new_task("echo", callback_url=CALLBACK))
    second = await store.tasks.create(account.live, new_task("echo", callback_url=CALLBACK))

    [taken] = await _deliveries_of(store, first.id)
    assert (taken["status"], taken["lease_owner"]) == ("delivering", "sender-1")
    assert taken["lease_expires_at"] is not None
    assert [d.id for d in handoff.given] == [taken["id"]]
    assert handoff.given[0].payload["task_id"] == first.id  # type: ignore[index]
    assert handoff.asked == [["127.0.0.1"], ["127.0.0.1"]]
    # Out of slots: the second is pending, for a claim.
    [left] = await _deliveries_of(store, second.id)
    assert (left["status"], left["lease_owner"]) == ("pending", None)
    claimed = await store.deliveries.claim(worker="sender-2", limit=100, lease_s=30)
    assert left["id"] in {d.id for d in claimed}
    assert taken["id"] not in {d.id for d in claimed}


async def test_a_rolled_back_transaction_gives_the_slots_back(
    store: Store, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    handoff = FakeHandoff(slots=5)
    store.signals.handoff = handoff
    store.signals.inline = {"echo": Inline(worker="dispatcher-1", respond=echo_response)}
    from hookline.store import tasks as task_module

    async def fail(*_: Any, **__: Any) -> None:
        raise StoreFailed("injected")

    monkeypatch.setattr(task_module, "tasks_finished", fail)
    with pytest.raises(StoreFailed):
        await store.tasks.create(account.live, new_task("echo", callback_url=CALLBACK))
    monkeypatch.undo()
    assert handoff.given == []
    # tasks_finished never ran, so nothing was taken; now let the enqueue run and the
    # commit fail after it.
    from hookline.store import outbox

    real_signed = outbox.signed

    async def signed_then_fail(*args: Any) -> Any:
        await real_signed(*args)
        raise StoreFailed("injected")

    monkeypatch.setattr(outbox, "signed", signed_then_fail)
    with pytest.raises(StoreFailed):
        await store.tasks.create(account.live, new_task("echo", callback_url=CALLBACK))
    assert handoff.cancelled == ["127.0.0.1"]
    assert handoff.given == []
