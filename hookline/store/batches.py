"""Batches: Scale's named groups of tasks, and their completion.

A finalized batch is completed in the transaction that finishes its last
pending task (or in its finalize, if none is pending), and its callback goes
through the outbox in that same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import Invalid
from hookline.models import JSON, Batch, BatchStatus, Environment, Principal, TaskStatus
from hookline.store.base import Database
from hookline.store.outbox import delivery_row, enqueue
from hookline.store.rows import (
    by_name,
    first_row,
    found,
    from_row,
    in_scope,
    insert_named,
    inserted,
)
from hookline.store.tables import batches, projects, tasks


def batch_from_row(row: Mapping[Any, Any]) -> Batch:
    return from_row(Batch, row, status=BatchStatus(row["status"]))


async def _status_counts(
    conn: AsyncConnection, account_id: int, environment: str, name: str
) -> dict[str, int]:
    """How many of the batch's tasks are in each status (statuses it has none in left out)."""
    query = (
        sa.select(tasks.c.status, sa.func.count())
        .where(
            tasks.c.account_id == account_id,
            tasks.c.environment == environment,
            tasks.c.batch == name,
        )
        .group_by(tasks.c.status)
    )
    return {status: int(n) for status, n in (await conn.execute(query)).all()}


async def complete_batches(
    db: Database, conn: AsyncConnection, rows: Sequence[Mapping[Any, Any]]
) -> None:
    """The finalized batches whose last task is among these finished ones are completed."""
    scopes = {(r["account_id"], r["environment"], r["batch"]) for r in rows if r["batch"]}
    for account_id, environment, name in scopes:
        await complete_batch_if_done(db, conn, account_id, environment, name)


async def complete_batch_if_done(
    db: Database, conn: AsyncConnection, account_id: int, environment: str, name: str
) -> bool:
    """in_progress → completed once it has tasks and none is pending; enqueue its callback."""
    counts = await _status_counts(conn, account_id, environment, name)
    if not counts or counts.get(TaskStatus.PENDING.value):
        return False
    b = batches.c
    done = await first_row(
        conn,
        sa.update(batches)
        .where(
            b.account_id == account_id,
            b.environment == environment,
            b.name == name,
            b.status == BatchStatus.IN_PROGRESS.value,
            b.finalized_at.is_not(None),
        )
        .values(status=BatchStatus.COMPLETED.value)
        .returning(*batches.c),
    )
    if done is None:
        return False
    callback = done["callback"]
    if callback and callback.startswith(("http://", "https://")):
        payload: dict[str, JSON] = {
            "batch": name,
            "project": done["project"],
            "status": BatchStatus.COMPLETED.value,
            **{s.value: counts.get(s.value, 0) for s in TaskStatus},
        }
        row = delivery_row(
            db,
            account_id=account_id,
            environment=environment,
            url=callback,
            event="batch.completed",
            payload=payload,
            batch=name,
        )
        await enqueue(db, conn, [row])
    return True


class BatchStore:
    """Use cases: create, read, list and finalize a batch, replace its metadata, count its
    tasks by status."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_batch(
        self,
        principal: Principal,
        *,
        name: str,
        project: str,
        callback: str | None,
        metadata: dict[str, JSON],
        calibration_batch: bool,
        self_label_batch: bool,
    ) -> Batch:
        # Scale's test environment starts batches in progress; live ones are staged.
        status = (
            BatchStatus.IN_PROGRESS
            if principal.environment is Environment.TEST
            else BatchStatus.STAGING
        )
        stmt = insert_named(
            batches,
            principal,
            self._db.dialect,
            name=name,
            project=project,
            status=status.value,
            callback=callback,
            metadata=metadata,
            calibration_batch=calibration_batch,
            self_label_batch=self_label_batch,
            created_at=self._db.clock(),
        )
        async with self._db.write() as conn:
            if await by_name(conn, projects, principal, project) is None:
                raise Invalid(f'Project "{project}" does not exist; create it first')
            row = await first_row(conn, stmt)
        return batch_from_row(inserted(row, f'A batch named "{name}" already exists'))

    async def get_batch(self, principal: Principal, name: str) -> Batch:
        async with self._db.read() as conn:
            row = found(await by_name(conn, batches, principal, name), f'Batch "{name}" not found')
        return batch_from_row(row)

    async def list_batches(
        self,
        principal: Principal,
        *,
        project: str | None,
        status: BatchStatus | None,
        created_after: datetime | None,
        created_before: datetime | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Batch], int]:
        """A page of batches, oldest first, and the total for the filter."""
        conditions = in_scope(batches, principal)
        if project is not None:
            conditions.append(batches.c.project == project)
        if status is not None:
            conditions.append(batches.c.status == status.value)
        if created_after is not None:
            conditions.append(batches.c.created_at >= created_after)
        if created_before is not None:
            conditions.append(batches.c.created_at <= created_before)
        query = (
            sa.select(batches).where(*conditions).order_by(batches.c.id).limit(limit).offset(offset)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
            total = await conn.scalar(
                sa.select(sa.func.count()).select_from(batches).where(*conditions)
            )
        return [batch_from_row(row) for row in rows], total or 0

    async def finalize_batch(self, principal: Principal, name: str) -> Batch:
        """staging → in_progress; finalizing again changes nothing.

        A finalized batch with no pending task is completed at once (and its
        callback, if it has a URL, is sent through the outbox).
        """
        async with self._db.write() as conn:
            finalized = await conn.execute(
                sa.update(batches)
                .where(
                    *in_scope(batches, principal),
                    batches.c.name == name,
                    batches.c.finalized_at.is_(None),
                    batches.c.status.in_(
                        [BatchStatus.STAGING.value, BatchStatus.IN_PROGRESS.value]
                    ),
                )
                .values(status=BatchStatus.IN_PROGRESS.value, finalized_at=self._db.clock())
            )
            if finalized.rowcount:
                await complete_batch_if_done(
                    self._db, conn, principal.account_id, principal.environment.value, name
                )
        return await self.get_batch(principal, name)

    async def set_batch_metadata(
        self, principal: Principal, name: str, metadata: dict[str, JSON]
    ) -> Batch:
        async with self._db.write() as conn:
            row = await first_row(
                conn,
                sa.update(batches)
                .where(*in_scope(batches, principal), batches.c.name == name)
                .values(metadata=metadata)
                .returning(*batches.c),
            )
        return batch_from_row(found(row, f'Batch "{name}" not found'))

    async def batch_counts(self, principal: Principal, name: str) -> tuple[Batch, dict[str, int]]:
        """The batch and how many of its tasks are in each status."""
        batch = await self.get_batch(principal, name)
        async with self._db.read() as conn:
            counts = await _status_counts(
                conn, principal.account_id, principal.environment.value, name
            )
        return batch, {s.value: counts.get(s.value, 0) for s in TaskStatus}
