"""Work: what a worker may do. Claim pending tasks with a lease, extend it, settle the outcome,
release it.

A claim is one transaction: select claimable rows (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite's single writer makes the select and update atomic), then
lease them. A lease whose expiry passed is claimable again, which is how a
crashed process's work is recovered: no sweeper needed. Every outcome is
applied by an update guarded by status *and* lease worker, so a task is never
completed twice. A lease taken through the worker API also records the API key
that claimed it, and only that key may heartbeat, complete or fail it (naming
the worker is not enough); a dispatcher's lease has no key, and no key may act
on it.

The claim is built here (`_candidates`, with the backend's per-type merge from
`dialect.per_value`). A submitter's changes (cancel, redo, retry) are
`store/operations.py`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import Conflict, IllegalTransition
from hookline.lifecycle import Action
from hookline.models import JSON, Principal, SettleKind, Settlement, Task, TaskStatus
from hookline.store.base import Database
from hookline.store.dialect import WORK_CHANNEL, notify, per_value
from hookline.store.events import SYSTEM, event_row, record
from hookline.store.group_commit import GroupCommit
from hookline.store.leases import (
    attempt_failed,
    check_holder,
    held_by,
    not_held,
    settlement_change,
    update_leased,
)
from hookline.store.rows import all_rows, first_row, scoped, task_from_row
from hookline.store.sqlite_plans import prepared
from hookline.store.tables import tasks
from hookline.store.transitions import apply, load_for_update, tasks_finished


class WorkStore:
    """Use cases of a worker: claim tasks (the dispatcher, or a key through the worker API);
    heartbeat, complete or fail one it holds (the worker API); settle, extend and release
    the leases it holds (the dispatcher)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._settlements: GroupCommit[tuple[str, Settlement], Task] = GroupCommit(
            self._settle_batch
        )

    async def claim(
        self,
        *,
        worker: str,
        lease_s: float,
        limit: int,
        types: Sequence[str] | None = None,
        principal: Principal | None = None,
        actor: str | None = None,
    ) -> list[Task]:
        """Lease up to `limit` claimable tasks: highest priority first, then oldest.

        `principal` limits the claim to one account and environment (the worker
        API); without it the claim spans every account (the dispatcher).
        """
        if types is not None:
            types = list(dict.fromkeys(types))
            if not types:
                return []
        now = self._db.clock()
        if principal is None:
            candidates = _all_candidates(self._db.dialect, None if types is None else tuple(types))
        else:
            candidates = _candidates(self._db.dialect, principal, types)

        async def lease(
            conn: AsyncConnection,
        ) -> tuple[Sequence[Any], Sequence[sa.RowMapping]]:
            found = (await conn.execute(candidates, {"c_now": now, "c_limit": limit})).all()
            if not found:
                return found, ()
            values = {
                "ids": [task_id for task_id, _ in found],
                "l_worker": worker,
                "l_key_id": principal.key_id if principal else None,
                "l_expires_at": now + timedelta(seconds=lease_s),
                "l_now": now,
            }
            rows = (await conn.execute(_LEASE, values)).mappings().all()
            await record(conn, _claim_events(rows, dict(found), now, worker, actor, lease_s))
            return found, rows

        found, rows = await self._db.transact(lease)
        if not found:
            return []
        order = {task_id: i for i, (task_id, _) in enumerate(found)}
        return sorted((task_from_row(r) for r in rows), key=lambda task: order[task.id])

    async def heartbeat(
        self, principal: Principal | None, task_id: str, *, worker: str, lease_s: float
    ) -> Task:
        """Extend the lease; only its holder may, and only while it lasts."""
        now = self._db.clock()

        async def extend(conn: AsyncConnection) -> sa.RowMapping | None:
            row = await load_for_update(conn, principal, task_id)
            check_holder(row, worker, principal, now)
            return await first_row(
                conn,
                sa.update(tasks)
                .where(
                    tasks.c.id == task_id,
                    tasks.c.status == TaskStatus.PENDING.value,
                    *held_by(worker, principal),
                )
                .values(lease_expires_at=now + timedelta(seconds=lease_s), updated_at=now)
                .returning(*tasks.c),
            )

        updated = await self._db.transact(extend)
        if updated is None:
            raise not_held(task_id, worker)
        return task_from_row(updated)

    async def complete(
        self, principal: Principal | None, task_id: str, *, worker: str, response: JSON
    ) -> Task:
        """The lease holder completes the task with its response."""
        now = self._db.clock()

        async def complete(conn: AsyncConnection) -> sa.RowMapping:
            row = await load_for_update(conn, principal, task_id)
            check_holder(row, worker, principal, now)
            return await apply(
                self._db,
                conn,
                row,
                Action.COMPLETE,
                actor=worker,
                response=response,
                guards=held_by(worker, principal),
                details={"attempt": row["attempts"]},
            )

        row = await self._db.transact(complete)
        self._db.signals.tasks_changed([task_id])
        return task_from_row(row)

    async def fail(
        self,
        principal: Principal | None,
        task_id: str,
        *,
        worker: str,
        error: str,
        retry: bool,
    ) -> Task:
        """The lease holder gives up: back to pending for another worker, or to error."""
        now = self._db.clock()

        async def fail(conn: AsyncConnection) -> sa.RowMapping:
            row = await load_for_update(conn, principal, task_id)
            check_holder(row, worker, principal, now)
            if retry:
                row = await self._release(
                    conn,
                    row,
                    actor=worker,
                    error=error,
                    retry_at=None,
                    guards=held_by(worker, principal),
                )
                await self._db.announce_work(conn)
                return row
            return await apply(
                self._db,
                conn,
                row,
                Action.FAIL,
                actor=worker,
                error=error,
                reason=error,
                guards=held_by(worker, principal),
                details={"attempt": row["attempts"]},
            )

        row = await self._db.transact(fail)
        self._db.signals.tasks_changed([task_id])
        return task_from_row(row)

    async def settle(self, worker: str, settlement: Settlement) -> Task:
        """Apply the dispatcher's decision for a task it holds; concurrent ones share a commit.

        Raises:
            Conflict: the lease was lost (another process claimed the task).
        """
        return await self._settlements.submit((worker, settlement))

    async def _settle_batch(
        self, items: Sequence[tuple[str, Settlement]]
    ) -> list[Task | BaseException]:
        """Settle many tasks in one transaction with three statements, whatever their number.

        The rows are read and locked together; each settlement is checked
        against its row (lease worker, lifecycle); the updates run as one
        executemany per shape, still guarded by status and lease worker; the
        events go in as one insert.
        """
        now = self._db.clock()
        outcomes: list[Task | BaseException] = []
        updates: list[tuple[sa.RowMapping, str, dict[str, Any]]] = []
        events: list[dict[str, Any]] = []

        async def settle(conn: AsyncConnection) -> None:
            ids = {"ids": [s.task_id for _, s in items]}
            rows = {r["id"]: r for r in (await conn.execute(_LOCKED, ids)).mappings()}
            for worker, settlement in items:
                try:
                    values, event = settlement_change(
                        rows.get(settlement.task_id), worker, settlement, now
                    )
                except (Conflict, IllegalTransition) as exc:
                    outcomes.append(exc)
                    continue
                row = rows[settlement.task_id]
                updates.append((row, worker, values))
                events.append(event)
                outcomes.append(task_from_row({**row, **values}))
            await update_leased(conn, updates)
            await record(conn, events)
            finished = [
                {**row, **values}
                for row, _, values in updates
                if values.get("status") in (TaskStatus.COMPLETED.value, TaskStatus.ERROR.value)
            ]
            await tasks_finished(self._db, conn, finished, callbacks=True)
            if any(s.kind is SettleKind.TRY_LATER for _, s in items):
                await self._db.announce_work(conn)

        await self._db.transact(settle)
        self._db.signals.tasks_changed([s.task_id for _, s in items])
        return outcomes

    async def _release(
        self,
        conn: AsyncConnection,
        row: sa.RowMapping,
        *,
        actor: str,
        error: str | None,
        retry_at: datetime | None,
        guards: Sequence[sa.ColumnElement[bool]],
    ) -> sa.RowMapping:
        """Drop the lease of a failed attempt; the task stays pending (after `retry_at`).

        Raises:
            Conflict: `guards` (who holds the lease) no longer hold.
        """
        values, event = attempt_failed(
            row, actor=actor, error=error, retry_at=retry_at, now=self._db.clock()
        )
        stmt = (
            sa.update(tasks)
            .where(tasks.c.id == row["id"], tasks.c.status == TaskStatus.PENDING.value, *guards)
            .values(**values)
            .returning(*tasks.c)
        )
        updated = await first_row(conn, stmt)
        if updated is None:
            raise Conflict(
                f"Task {row['id']} changed while this request ran; read it and try again"
            )
        await record(conn, [event])
        return updated

    async def extend(self, worker: str, task_ids: Sequence[str], *, lease_s: float) -> int:
        """Extend the leases `worker` still holds (the dispatcher's heartbeat); how many."""
        if not task_ids:
            return 0
        now = self._db.clock()
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(tasks)
                .where(tasks.c.id.in_(list(task_ids)), *held_by(worker, None))
                .values(lease_expires_at=now + timedelta(seconds=lease_s))
            )
        return int(result.rowcount)

    async def release(self, worker: str, task_ids: Sequence[str], *, reason: str) -> int:
        """Give back leases unfinished at shutdown, so another process can claim them at once."""
        if not task_ids:
            return 0
        now = self._db.clock()
        async with self._db.write() as conn:
            rows = await all_rows(
                conn,
                sa.update(tasks)
                .where(
                    tasks.c.id.in_(list(task_ids)),
                    *held_by(worker, None),
                    tasks.c.status == TaskStatus.PENDING.value,
                )
                .values(
                    lease_owner=None,
                    lease_key_id=None,
                    lease_expires_at=None,
                    attempts=tasks.c.attempts - 1,
                    updated_at=now,
                )
                .returning(*tasks.c),
            )
            await record(
                conn,
                [
                    event_row(row, at=now, actor=worker, action="released", reason=reason)
                    for row in rows
                ],
            )
            # This dispatcher is stopping: tell the others even though it dispatches.
            await notify(conn, WORK_CHANNEL)
        return len(rows)


_T = tasks.c
_LEASE = prepared(
    sa.update(tasks)
    .where(_T.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        lease_owner=sa.bindparam("l_worker"),
        lease_key_id=sa.bindparam("l_key_id"),
        lease_expires_at=sa.bindparam("l_expires_at", type_=_T.lease_expires_at.type),
        attempts=_T.attempts + 1,
        updated_at=sa.bindparam("l_now", type_=_T.updated_at.type),
    )
    .returning(*tasks.c)
)
"""A claim's lease on the candidates it found (`ids`), built once (see events._INSERT_EVENTS)."""
_LOCKED = prepared(
    sa.select(tasks).where(_T.id.in_(sa.bindparam("ids", expanding=True))).with_for_update()
)
"""The rows of tasks being settled, locked until the settlement commits."""


@functools.cache
def _all_candidates(dialect: str, types: tuple[str, ...] | None) -> sa.Select[Any]:
    """`_candidates` of the dispatcher (every account), built once per backend and types."""
    return prepared(_candidates(dialect, None, types))


def _candidates(
    dialect: str, principal: Principal | None, types: Sequence[str] | None
) -> sa.Select[Any]:
    """(id, lease_owner) of up to `c_limit` claimable tasks at `c_now`, highest priority
    first, then oldest.

    `ix_tasks_claimable` is ordered by (type, priority, id), so one type is read in
    order and the read stops at `limit`. Several types are taken `limit` at a time
    from each type's range and merged: `type IN (...)` would sort every pending
    task of those types on each claim (36 ms at 100,000 pending, against 0.3 ms).
    """
    t = tasks.c
    now = sa.bindparam("c_now", type_=t.created_at.type)
    limit = sa.bindparam("c_limit", type_=sa.Integer())

    def of_type(*conditions: sa.ColumnElement[bool]) -> sa.Select[Any]:
        return (
            sa.select(t.id, t.lease_owner, t.priority)
            .where(
                *scoped(principal),
                *conditions,
                t.status == TaskStatus.PENDING.value,
                sa.or_(t.lease_expires_at.is_(None), t.lease_expires_at < now),
                sa.or_(t.run_after.is_(None), t.run_after <= now),
            )
            .order_by(t.priority.desc().nulls_last(), t.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    if types is None or len(types) == 1:
        return of_type(*([] if types is None else [t.type == types[0]])).with_only_columns(
            t.id, t.lease_owner
        )
    picked, source = per_value(dialect, t.type, types, of_type)
    return (
        sa.select(picked.c.id, picked.c.lease_owner)
        .select_from(source)
        .order_by(picked.c.priority.desc().nulls_last(), picked.c.id)
        .limit(limit)
    )


def _claim_events(
    rows: Sequence[sa.RowMapping],
    previous: Mapping[str, str | None],
    now: datetime,
    worker: str,
    actor: str | None,
    lease_s: float,
) -> list[dict[str, Any]]:
    """`claimed` for each task, after `lease_expired` where another worker's lease ran out."""
    events = []
    for row in rows:
        if previous.get(row["id"]) is not None:
            events.append(
                event_row(
                    row,
                    at=now,
                    actor=SYSTEM,
                    action="lease_expired",
                    reason=f"lease of {previous[row['id']]} expired",
                    details={"previous_owner": previous[row["id"]]},
                )
            )
        events.append(
            event_row(
                row,
                at=now,
                actor=actor or worker,
                action="claimed",
                details={"worker": worker, "lease_s": lease_s, "attempt": row["attempts"]},
            )
        )
    return events
