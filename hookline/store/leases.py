"""Leases on tasks: who holds one, the guards every holder's update carries, the refusal,
and what a holder's outcome changes (the column values and the event, pure).

A worker API lease records the key that claimed it, and only that key may act
on it; a dispatcher's lease has no key, and no key may act on it. The use
cases that apply these are `store/work.py`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import Conflict
from hookline.lifecycle import Action
from hookline.models import Principal, SettleKind, Settlement, TaskStatus
from hookline.store.events import event_row
from hookline.store.sqlite_plans import prepared
from hookline.store.tables import tasks
from hookline.store.transitions import row_transition, transition_event


def check_holder(row: sa.RowMapping, worker: str, principal: Principal | None, now: Any) -> None:
    """Explain a refusal; the guarded update (`held_by`) is what enforces it."""
    if row["status"] != TaskStatus.PENDING.value:
        raise Conflict(f"Task {row['id']} is {row['status']}, not pending")
    expires = row["lease_expires_at"]
    key_id = principal.key_id if principal else None
    if (
        row["lease_owner"] != worker
        or row["lease_key_id"] != key_id
        or expires is None
        or expires <= now
    ):
        raise not_held(row["id"], worker)


def not_held(task_id: str, worker: str) -> Conflict:
    # The same answer whether another worker holds the lease or another key took it.
    return Conflict(f"Task {task_id} is not leased to worker {worker!r}; claim it first")


def _key_is(key_id: str | None) -> sa.ColumnElement[bool]:
    return tasks.c.lease_key_id.is_(None) if key_id is None else tasks.c.lease_key_id == key_id


def held_by(worker: str, principal: Principal | None) -> list[sa.ColumnElement[bool]]:
    """Guards for an update by the lease's holder: the worker named, and the API key that
    claimed it (a principal) or no key at all (a dispatcher)."""
    return [tasks.c.lease_owner == worker, _key_is(principal.key_id if principal else None)]


async def update_leased(
    conn: AsyncConnection, updates: Sequence[tuple[sa.RowMapping, str, dict[str, Any]]]
) -> None:
    """Apply per-task values with one executemany per set of columns.

    Each update stays guarded by status and lease worker; the rows are locked
    by the caller, so the guards hold.
    """
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row, worker, values in updates:
        one = {"w_id": row["id"], "w_worker": worker} | {f"v_{k}": v for k, v in values.items()}
        shapes.setdefault(tuple(sorted(values)), []).append(one)
    for columns, params in shapes.items():
        await conn.execute(_leased_update(columns), params)


@functools.cache
def _leased_update(columns: tuple[str, ...]) -> sa.Update:
    """`update_leased`'s statement for one set of columns, built once."""
    return prepared(
        sa.update(tasks)
        .where(
            tasks.c.id == sa.bindparam("w_id"),
            tasks.c.lease_owner == sa.bindparam("w_worker"),
            tasks.c.lease_key_id.is_(None),
            tasks.c.status == TaskStatus.PENDING.value,
        )
        .values({c: sa.bindparam(f"v_{c}", type_=tasks.c[c].type) for c in columns})
    )


def attempt_failed(
    row: Mapping[Any, Any],
    *,
    actor: str,
    error: str | None,
    retry_at: datetime | None,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The column values and the event of a failed attempt: the lease is dropped and the task
    stays pending, claimable again after `retry_at` (at once without)."""
    values = {
        "lease_owner": None,
        "lease_key_id": None,
        "lease_expires_at": None,
        "run_after": retry_at,
        "error": error,
        "updated_at": now,
    }
    event = event_row(
        row,
        at=now,
        actor=actor,
        action="attempt_failed",
        reason=error,
        details={
            "attempt": row["attempts"],
            "retry_at": retry_at.isoformat() if retry_at else None,
        },
    )
    return values, event


def settlement_change(
    row: Mapping[Any, Any] | None, worker: str, settlement: Settlement, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The column values and the event that settle one task the dispatcher holds.

    Raises:
        Conflict: the dispatcher's lease is gone.
        IllegalTransition: the task is no longer pending.
    """
    if row is None or row["lease_owner"] != worker or row["lease_key_id"] is not None:
        raise Conflict(f"Task {settlement.task_id} is no longer held by {worker}")
    if settlement.kind is SettleKind.TRY_LATER:
        return attempt_failed(
            row, actor=worker, error=settlement.error, retry_at=settlement.retry_at, now=now
        )
    complete = settlement.kind is SettleKind.COMPLETE
    change = row_transition(
        row,
        Action.COMPLETE if complete else Action.FAIL,
        now=now,
        response=settlement.response,
        error=settlement.error,
    )
    values = {"status": change.to_status.value, "updated_at": now, **change.changes}
    event = transition_event(
        row,
        change,
        at=now,
        actor=worker,
        reason=None if complete else settlement.error,
        details={"attempt": row["attempts"]},
    )
    return values, event
