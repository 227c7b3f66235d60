"""EventStore on each backend: the audit trail and reviews, filtered, paged and scoped."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from hookline.errors import IllegalTransition
from hookline.models import AuditFilter, EventFilter, ReviewResult
from hookline.store import Store, open_store
from hookline.tags import TagMode
from tests.conftest import Account, AccountFactory
from tests.store.conftest import new_task


async def test_a_tasks_trail_in_order_with_filters(store: Store, account: Account) -> None:
    """created, tags_changed, canceled: in order, and narrowed by task, action and actor."""
    task = await store.tasks.create(account.live, new_task(callback_url=None))
    other = await store.tasks.create(account.live, new_task(callback_url=None))
    await store.operations.change_tags(
        account.live, task.id, mode=TagMode.ADD, tags=["x"], max_tags=5
    )
    await store.operations.cancel(account.live, task.id, clear_unique_id=False)
    events, more = await store.events.events(
        account.live, EventFilter(task_id=task.id), after_id=None, limit=10
    )
    assert not more
    assert [e.action for e in events] == ["created", "tags_changed", "canceled"]
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "pending"),
        (None, None),
        ("pending", "canceled"),
    ]
    assert events[1].details == {"mode": "add", "from": [], "to": ["x"]}
    assert {e.actor for e in events} == {account.live.key_id}
    ids = [e.id for e in events]
    assert ids == sorted(ids)

    created, _ = await store.events.events(
        account.live, EventFilter(actions=("created",)), after_id=None, limit=10
    )
    assert {e.task_id for e in created} == {task.id, other.id}
    nobody, _ = await store.events.events(
        account.live, EventFilter(actor="someone-else"), after_id=None, limit=10
    )
    assert nobody == []


async def test_events_page_by_id_and_stay_in_scope(
    store: Store, account_factory: AccountFactory
) -> None:
    """Pages of two follow one another by id; the other environment and account see none."""
    one, two = await account_factory(), await account_factory()
    for _ in range(5):
        await store.tasks.create(one.live, new_task(callback_url=None))
    await store.tasks.create(two.live, new_task(callback_url=None))
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page, more = await store.events.events(one.live, EventFilter(), after_id=after, limit=2)
        seen += [e.id for e in page]
        pages += 1
        if not more:
            break
        after = page[-1].id
    assert len(seen) == len(set(seen)) == 5
    assert pages == 3
    assert (await store.events.events(one.test, EventFilter(), after_id=None, limit=10))[0] == []
    theirs, _ = await store.events.events(two.live, EventFilter(), after_id=None, limit=10)
    assert len(theirs) == 1


async def test_events_by_time_and_project(database_url: str, account: Account) -> None:
    """since and until bound the time inclusively; project keeps the events of its tasks."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    times = iter(start + timedelta(minutes=m) for m in range(100))
    store = open_store(database_url, clock=lambda: next(times))
    try:
        await store.projects.create_project(account.live, name="p", type="echo", params={})
        in_p = await store.tasks.create(
            account.live, dataclasses.replace(new_task(callback_url=None), project="p")
        )
        outside = await store.tasks.create(account.live, new_task(callback_url=None))
        got = {
            name: await store.events.events(account.live, where, after_id=None, limit=10)
            for name, where in {
                "project": EventFilter(project="p"),
                "since": EventFilter(since=outside.created_at),
                "until": EventFilter(until=in_p.created_at),
            }.items()
        }
    finally:
        await store.close()
    assert [e.task_id for e in got["project"][0]] == [in_p.id]
    assert [e.task_id for e in got["since"][0]] == [outside.id]
    assert [e.task_id for e in got["until"][0]] == [in_p.id]


async def test_reviews_are_listed_filtered_and_paged(
    store: Store, account_factory: AccountFactory
) -> None:
    """Each review once, oldest first, by result, reviewer and project; others' are not shown."""
    one, two = await account_factory(), await account_factory()
    await store.projects.create_project(one.live, name="p", type="echo", params={})
    tasks = [
        await store.tasks.create(
            one.live,
            dataclasses.replace(new_task(callback_url=None), project="p" if i else None),
            completed_response={"n": i},
        )
        for i in range(3)
    ]
    results = [ReviewResult.ACCEPTED, ReviewResult.REJECTED, ReviewResult.FIXED]
    for task, result in zip(tasks, results, strict=True):
        await store.operations.audit(one.live, task.id, result=result, comments=f"c-{result}")
    everything, more = await store.events.audits(one.live, AuditFilter(), after_id=None, limit=10)
    assert not more
    assert [r.task_id for r in everything] == [t.id for t in tasks]
    assert [r.audit.audit_result for r in everything] == results
    assert [r.project for r in everything] == [None, "p", "p"]
    assert {r.audit.audited_by for r in everything} == {one.live.email}

    first, more = await store.events.audits(one.live, AuditFilter(), after_id=None, limit=2)
    rest, last = await store.events.audits(one.live, AuditFilter(), after_id=first[-1].id, limit=2)
    assert more
    assert not last
    assert [r.id for r in first + rest] == [r.id for r in everything]

    async def task_ids(f: AuditFilter) -> list[str]:
        return [
            r.task_id for r in (await store.events.audits(one.live, f, after_id=None, limit=9))[0]
        ]

    assert await task_ids(AuditFilter(results=("fixed", "accepted"))) == [tasks[0].id, tasks[2].id]
    assert await task_ids(AuditFilter(project="p")) == [tasks[1].id, tasks[2].id]
    assert await task_ids(AuditFilter(auditor="nobody@x.io")) == []
    assert (await store.events.audits(two.live, AuditFilter(), after_id=None, limit=9))[0] == []
    assert (await store.events.audits(one.test, AuditFilter(), after_id=None, limit=9))[0] == []


@pytest.mark.parametrize("result", list(ReviewResult))
async def test_review_of_a_pending_task_is_refused_and_not_listed(
    store: Store, account: Account, result: ReviewResult
) -> None:
    """Only a completed task is reviewed; a refused review leaves no record."""
    task = await store.tasks.create(account.live, new_task(callback_url=None))
    with pytest.raises(IllegalTransition, match="only completed tasks can be audited"):
        await store.operations.audit(account.live, task.id, result=result, comments=None)
    listed, _ = await store.events.audits(account.live, AuditFilter(), after_id=None, limit=9)
    assert listed == []
