"""Claims across several task types: one order over all of them, no task twice."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hookline.models import Task
from hookline.store import Store, open_store
from hookline.store.work import _candidates
from tests.conftest import Account, new_task


def kinds(n: int) -> list[str]:
    """Types of this test alone: the dispatcher's claims span every account."""
    run = uuid.uuid4().hex[:8]
    return [f"claim-{run}-{i}" for i in range(n)]


async def test_claim_over_several_types_is_priority_then_oldest(
    store: Store, account: Account
) -> None:
    """Highest priority first across all the types, tasks without one last; ties oldest first."""
    a, b, c = kinds(3)
    plan = [(a, 10), (b, None), (a, 30), (b, 30), (c, 20), (a, None), (b, 10), (c, 30)]
    created: list[Task] = []
    for kind, priority in plan:
        created.append(await store.tasks.create(account.live, new_task(kind, priority=priority)))

    claimed = await store.work.claim(worker="w", lease_s=30, limit=5, types=[a, b, c])
    rest = await store.work.claim(worker="w", lease_s=30, limit=5, types=[a, b, c])

    def key(task: Task) -> tuple[int, str]:
        return (-(task.priority if task.priority is not None else -(2**31)), task.id)

    expected = sorted(created, key=key)
    assert [t.id for t in claimed] == [t.id for t in expected[:5]]
    assert [t.id for t in rest] == [t.id for t in expected[5:]]


async def test_concurrent_claims_over_several_types_never_share_a_task(
    database_url: str, account: Account
) -> None:
    """Four stores (as four processes) claim from three types at once: each task once."""
    types = kinds(3)
    stores = [open_store(database_url) for _ in range(4)]
    try:
        ids = {
            (await stores[0].tasks.create(account.live, new_task(types[i % 3], priority=i % 4))).id
            for i in range(90)
        }

        async def claim_all(store: Store, owner: str) -> list[str]:
            taken: list[str] = []
            while batch := await store.work.claim(worker=owner, lease_s=30, limit=7, types=types):
                taken.extend(t.id for t in batch)
            return taken

        results = await asyncio.gather(*(claim_all(s, f"w{i}") for i, s in enumerate(stores)))
    finally:
        for store in stores:
            await store.close()
    taken = [task_id for result in results for task_id in result]
    assert sorted(taken) == sorted(ids)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def test_claim_over_several_types_reads_each_in_index_order(
    backend: str, store: Store, account: Account
) -> None:
    """Each type's range of `ix_tasks_claimable` is read in claim order: the only sort is
    the final merge of at most limit x types rows, never one over all pending tasks."""
    types = kinds(2)
    for kind in types:
        await store.tasks.create(account.live, new_task(kind))
    query = _candidates(backend, None, types).params(c_now=store.db.clock(), c_limit=50)
    dialect = postgresql.dialect() if backend == "postgresql" else sqlite.dialect()
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    async with store.db.write() as conn:
        if backend == "sqlite":
            steps = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()
            searches = [detail for _, _, _, detail in steps if detail.startswith("SEARCH")]
            sorts = [parent for _, parent, _, detail in steps if "TEMP B-TREE" in detail]
            assert searches == ["SEARCH tasks USING INDEX ix_tasks_claimable (type=?)"] * 2
            assert sorts == [0]  # the outer merge only
            return
        # A tiny table would be scanned whole; make the planner show its index plan.
        await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        await conn.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        [[explained]] = (await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}")).all()
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
    [lock] = [n for n in _nodes(plan) if n["Node Type"] == "LockRows"]
    below = list(_nodes(lock))
    assert [n["Node Type"] for n in below if n["Node Type"] == "Sort"] == []
    assert any(n.get("Index Name") == "ix_tasks_claimable" for n in below)


async def test_claim_with_no_type_or_a_repeated_type(store: Store, account: Account) -> None:
    """An empty type list claims nothing; a type named twice is claimed once per task."""
    [kind] = kinds(1)
    created = [(await store.tasks.create(account.live, new_task(kind))).id for _ in range(3)]
    assert await store.work.claim(worker="w", lease_s=30, limit=10, types=[]) == []
    claimed = await store.work.claim(worker="w", lease_s=30, limit=10, types=[kind, kind])
    assert [t.id for t in claimed] == created
