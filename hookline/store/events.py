"""The audit trail (task_events) and reviews (audits): writing rows and querying them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.models import (
    JSON,
    Audit,
    AuditFilter,
    AuditRecord,
    EventFilter,
    Principal,
    ReviewResult,
    Task,
    TaskEvent,
)
from hookline.store.base import Database
from hookline.store.rows import from_row, in_scope, task_from_row
from hookline.store.sqlite_plans import prepared
from hookline.store.tables import audits, task_events, tasks

SYSTEM = "system"
"""The actor of changes nobody asked for, such as an expired lease."""


def event_row(
    task: Any,
    *,
    at: datetime,
    actor: str,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    details: dict[str, JSON] | None = None,
) -> dict[str, Any]:
    """A task_events row for a task row (anything with id, account_id, environment)."""
    return {
        "task_id": task["id"],
        "account_id": task["account_id"],
        "environment": task["environment"],
        "at": at,
        "actor": actor,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "details": details,
    }


_INSERT_EVENTS = prepared(sa.insert(task_events))
"""Built once, like every statement on the pipeline's path: SQLAlchemy computes a statement's
cache key once per object, and building and keying one costs more than running it."""


async def record(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Append events in the caller's transaction."""
    if rows:
        await conn.execute(_INSERT_EVENTS, list(rows))


def _event(row: sa.RowMapping) -> TaskEvent:
    return from_row(TaskEvent, row)


def audit_from_row(row: sa.RowMapping) -> Audit:
    return from_row(Audit, row, audit_result=ReviewResult(row["audit_result"]))


async def audits_of(conn: AsyncConnection, task_ids: Sequence[str]) -> dict[str, list[Audit]]:
    """The reviews of these tasks, oldest first, by task id."""
    if not task_ids:
        return {}
    query = sa.select(audits).where(audits.c.task_id.in_(task_ids)).order_by(audits.c.id)
    found: dict[str, list[Audit]] = {}
    for row in (await conn.execute(query)).mappings():
        found.setdefault(row["task_id"], []).append(audit_from_row(row))
    return found


async def task_with_audits(conn: AsyncConnection, row: sa.RowMapping) -> Task:
    """The task of `row`, with its reviews."""
    found = await audits_of(conn, [row["id"]])
    return task_from_row(row, found.get(row["id"], ()))


class EventStore:
    """Use cases: read the audit trail (task events) and the reviews of an account's tasks,
    filtered and paged by id."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def events(
        self, principal: Principal, where: EventFilter, *, after_id: int | None, limit: int
    ) -> tuple[list[TaskEvent], bool]:
        """Events in the principal's scope, oldest first; and whether more follow."""
        e = task_events.c
        query = sa.select(task_events).where(*in_scope(task_events, principal))
        if where.task_id is not None:
            query = query.where(e.task_id == where.task_id)
        if where.actions:
            query = query.where(e.action.in_(where.actions))
        if where.actor is not None:
            query = query.where(e.actor == where.actor)
        if where.since is not None:
            query = query.where(e.at >= where.since)
        if where.until is not None:
            query = query.where(e.at <= where.until)
        if where.project is not None:
            query = query.where(
                e.task_id.in_(
                    sa.select(tasks.c.id).where(
                        *in_scope(tasks, principal), tasks.c.project == where.project
                    )
                )
            )
        if after_id is not None:
            query = query.where(e.id > after_id)
        query = query.order_by(e.id).limit(limit + 1)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_event(r) for r in rows[:limit]], len(rows) > limit

    async def audits(
        self, principal: Principal, where: AuditFilter, *, after_id: int | None, limit: int
    ) -> tuple[list[AuditRecord], bool]:
        """Reviews of the principal's tasks, oldest first; and whether more follow."""
        a, t = audits.c, tasks.c
        query = (
            sa.select(audits, t.project)
            .join(tasks, t.id == a.task_id)
            .where(*in_scope(tasks, principal))
        )
        if where.results:
            query = query.where(a.audit_result.in_(where.results))
        if where.auditor is not None:
            query = query.where(a.audited_by == where.auditor)
        if where.project is not None:
            query = query.where(t.project == where.project)
        if where.since is not None:
            query = query.where(a.audited_at >= where.since)
        if where.until is not None:
            query = query.where(a.audited_at <= where.until)
        if after_id is not None:
            query = query.where(a.id > after_id)
        query = query.order_by(a.id).limit(limit + 1)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        records = [
            AuditRecord(
                id=r["id"], task_id=r["task_id"], project=r["project"], audit=audit_from_row(r)
            )
            for r in rows[:limit]
        ]
        return records, len(rows) > limit
