"""Apply a lifecycle transition to a stored task: the guarded update, its event, and what a
finished task causes (its callback in the outbox, its batch's completion), in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline import lifecycle
from hookline.errors import Conflict, NotFound
from hookline.models import JSON, Principal, TaskStatus
from hookline.store.base import Database
from hookline.store.batches import complete_batches
from hookline.store.events import event_row, record
from hookline.store.outbox import enqueue_task_callbacks
from hookline.store.rows import scoped
from hookline.store.tables import tasks


async def tasks_finished(
    db: Database, conn: AsyncConnection, rows: Sequence[Mapping[Any, Any]], *, callbacks: bool
) -> None:
    """In the transaction that finished these tasks: their callbacks, and their batches.

    With `callbacks`, each task with a callback_url gets an outbox row; a
    finalized batch whose last task this was is completed and called back.
    """
    if callbacks:
        await enqueue_task_callbacks(db, conn, rows)
    await complete_batches(db, conn, rows)


def row_transition(
    row: Mapping[Any, Any],
    action: lifecycle.Action,
    *,
    now: datetime,
    response: JSON | None = None,
    error: str | None = None,
) -> lifecycle.Transition:
    """`lifecycle.transition` for the task of a row.

    Raises:
        IllegalTransition: the action does not apply to the task's status.
    """
    return lifecycle.transition(
        TaskStatus(row["status"]),
        action,
        now=now,
        has_callback=bool(row["callback_url"]),
        times_redone=row["times_redone"],
        response=response,
        error=error,
    )


def transition_event(
    row: Mapping[Any, Any],
    change: lifecycle.Transition,
    *,
    at: datetime,
    actor: str,
    reason: str | None,
    details: dict[str, JSON] | None,
) -> dict[str, Any]:
    """The trail's event for `change` of the task of `row`."""
    return event_row(
        row,
        at=at,
        actor=actor,
        action=change.event,
        from_status=change.from_status.value,
        to_status=change.to_status.value,
        reason=reason,
        details=details,
    )


async def load_for_update(
    conn: AsyncConnection, principal: Principal | None, task_id: str
) -> sa.RowMapping:
    """The task row, locked until the transaction ends (SQLite's writer already holds the lock).

    Raises:
        NotFound: no such task in the principal's scope.
    """
    query = sa.select(tasks).where(*scoped(principal), tasks.c.id == task_id).with_for_update()
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"Task {task_id} not found")
    return row


async def apply(
    db: Database,
    conn: AsyncConnection,
    row: sa.RowMapping,
    action: lifecycle.Action,
    *,
    actor: str,
    reason: str | None = None,
    details: dict[str, JSON] | None = None,
    response: JSON | None = None,
    error: str | None = None,
    guards: Sequence[sa.ColumnElement[bool]] = (),
    extra: dict[str, Any] | None = None,
) -> sa.RowMapping:
    """Move the task along `action`, guarded by its current status (and `guards`).

    Raises:
        IllegalTransition: the action does not apply to the task's status.
        Conflict: the task changed under us (a guard no longer holds).
    """
    now = db.clock()
    change = row_transition(row, action, now=now, response=response, error=error)
    stmt = (
        sa.update(tasks)
        .where(tasks.c.id == row["id"], tasks.c.status == row["status"], *guards)
        .values(status=change.to_status.value, updated_at=now, **change.changes, **(extra or {}))
        .returning(*tasks.c)
    )
    updated = (await conn.execute(stmt)).mappings().first()
    if updated is None:
        raise Conflict(f"Task {row['id']} changed while this request ran; read it and try again")
    await record(
        conn,
        [transition_event(updated, change, at=now, actor=actor, reason=reason, details=details)],
    )
    if change.to_status in (TaskStatus.COMPLETED, TaskStatus.ERROR, TaskStatus.CANCELED):
        await tasks_finished(db, conn, [updated], callbacks=change.callback_due)
    return updated
