"""Tasks: create with dedup, read, list with filters and a keyset cursor.

Changes to an existing task are `store/operations.py` (a submitter's or
reviewer's) and `store/work.py` (a worker's).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import DuplicateUniqueId, NotFound, StoreFailed
from hookline.models import JSON, NewTask, Principal, Task, TaskFilter, TaskPage, TaskStatus
from hookline.store.base import Database
from hookline.store.dialect import insert, json_array_overlaps
from hookline.store.events import audits_of, event_row, record
from hookline.store.group_commit import GroupCommit
from hookline.store.rows import scoped, task_from_row
from hookline.store.signals import Inline
from hookline.store.sqlite_plans import prepared
from hookline.store.tables import tasks
from hookline.store.transitions import tasks_finished

_NOT_REVIEWED = "pending"
"""The review status Scale gives a task nobody has reviewed yet (stored as NULL)."""


_NewRow = tuple[dict[str, Any], str, Inline | None]
"""A task to insert: its values, the actor creating it, and the inline handler completing it."""


def _run_inline(inline: Inline | None, new: NewTask) -> tuple[Inline | None, JSON | None]:
    """The inline handler of this type and its response, or (None, None) to leave the task
    pending for the dispatcher (no inline handler, or it raised)."""
    if inline is None:
        return None, None
    try:
        return inline, inline.respond(new.params)
    except Exception:  # noqa: BLE001 - the dispatcher's ordinary path then runs it
        return None, None


def _inline_events(row: Mapping[str, Any], inline: Inline) -> list[dict[str, Any]]:
    """What the trail shows of a task completed inline: claimed, then completed, by the
    dispatcher, as if it had claimed and settled the task itself."""
    at, worker = row["created_at"], inline.worker
    return [
        event_row(
            row,
            at=at,
            actor=worker,
            action="claimed",
            details={"worker": worker, "attempt": 1, "inline": True},
        ),
        _completed_event(row, worker, details={"attempt": 1}),
    ]


def _completed_event(row: Mapping[str, Any], actor: str, **more: Any) -> dict[str, Any]:
    """pending → completed, in the create (the test environment's sample, or inline)."""
    return event_row(
        row,
        at=row["created_at"],
        actor=actor,
        action="completed",
        from_status=TaskStatus.PENDING.value,
        to_status=TaskStatus.COMPLETED.value,
        **more,
    )


@functools.cache
def _insert_new(dialect: str) -> Any:
    """INSERT … ON CONFLICT (unique_id) DO NOTHING RETURNING id, built once per backend.

    Only the id comes back: the rest of each inserted row is what was sent (`_stored`),
    so reading it back would decode again the JSON and times just encoded."""
    return prepared(
        insert(tasks, dialect)
        .on_conflict_do_nothing(
            index_elements=["account_id", "environment", "unique_id"],
            index_where=tasks.c.unique_id.is_not(None),
        )
        .returning(tasks.c.id)
    )


_UNSET = dict.fromkeys(tasks.c.keys())
"""A new task's columns that `create` leaves to their defaults (all NULL)."""


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """The row an insert of `values` stored: every column, as RETURNING * would read it."""
    return _UNSET | dict(values)


_HOLDERS = prepared(
    sa.select(tasks.c.unique_id, tasks.c.id).where(
        tasks.c.account_id == sa.bindparam("account_id"),
        tasks.c.environment == sa.bindparam("environment"),
        tasks.c.unique_id.in_(sa.bindparam("ids", expanding=True)),
    )
)


class TaskStore:
    """Use cases: create a task (group-committed, unique_id dedup), read one, list a page."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._creates: GroupCommit[_NewRow, Task] = GroupCommit(self._insert_batch)

    async def create(
        self, principal: Principal, new: NewTask, *, completed_response: JSON | None = None
    ) -> Task:
        """Insert a task; a taken unique_id raises `DuplicateUniqueId` naming the other task.

        With `completed_response` the task is stored already completed (Scale's
        test environment completes tasks in the create request). Concurrent
        creates share a transaction (see `GroupCommit`).
        """
        now = self._db.clock()
        inline = None
        if completed_response is None:
            inline, completed_response = _run_inline(self._db.signals.inline.get(new.type), new)
        completed = completed_response is not None
        values = {
            "id": self._db.ids(now),
            "account_id": principal.account_id,
            "environment": principal.environment.value,
            "type": new.type,
            "status": (TaskStatus.COMPLETED if completed else TaskStatus.PENDING).value,
            "instruction": new.instruction,
            "params": new.params,
            "response": completed_response,
            "error": None,
            "metadata": new.metadata,
            "tags": new.tags,
            "unique_id": new.unique_id,
            "project": new.project,
            "batch": new.batch,
            "callback_url": new.callback_url,
            "callback_completed": False,
            "times_redone": 0,
            "priority": new.priority,
            "customer_review_status": None,
            "created_at": now,
            "updated_at": now,
            "completed_at": now if completed else None,
            "attempts": 0 if inline is None else 1,
        }
        return await self._creates.submit((values, principal.key_id, inline))

    async def _insert_batch(self, items: Sequence[_NewRow]) -> list[Task | BaseException]:
        """One multi-row INSERT … ON CONFLICT DO NOTHING; rows it skipped are duplicates.

        The `created` events (and `completed`, for test-environment tasks) go
        into the same transaction.
        """
        rows = [values for values, _, _ in items]
        # executemany with RETURNING: SQLAlchemy's "insertmanyvalues" sends multi-row
        # INSERTs and caches the compiled statement, whatever the batch size.
        stmt = _insert_new(self._db.dialect)

        async def insert(
            conn: AsyncConnection,
        ) -> tuple[dict[str, dict[str, Any]], dict[tuple[int, str, str], str]]:
            ids = set((await conn.execute(stmt, rows)).scalars())
            inserted = {row["id"]: _stored(row) for row in rows if row["id"] in ids}
            holders = await self._unique_id_holders(
                conn, [row for row in rows if row["id"] not in inserted]
            )
            await record(conn, self._created_events(items, inserted))
            completed = [r for r in inserted.values() if r["status"] == TaskStatus.COMPLETED.value]
            if completed:
                # Test-environment tasks complete in the create; their callbacks still go out.
                await tasks_finished(self._db, conn, completed, callbacks=True)
            if any(r["status"] == TaskStatus.PENDING.value for r in inserted.values()):
                await self._db.announce_work(conn)
            return inserted, holders

        try:
            inserted, holders = await self._db.transact(insert)
        except StoreFailed:
            if len(items) == 1:
                raise
            # Something in one row broke the batch: write each alone, so only it fails.
            return [await self._insert_alone(item) for item in items]
        outcomes: list[Task | BaseException] = []
        for row in rows:
            if row["id"] in inserted:
                outcomes.append(task_from_row(inserted[row["id"]]))
            else:
                key = (row["account_id"], row["environment"], row["unique_id"])
                outcomes.append(
                    DuplicateUniqueId(row["unique_id"] or "", holders.get(key, "unknown"))
                )
        return outcomes

    @staticmethod
    def _created_events(
        items: Sequence[_NewRow], inserted: Mapping[str, Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        events = []
        for values, actor, inline in items:
            row = inserted.get(values["id"])
            if row is None:
                continue
            at = row["created_at"]
            events.append(
                event_row(
                    row, at=at, actor=actor, action="created", to_status=TaskStatus.PENDING.value
                )
            )
            if inline is not None:
                events.extend(_inline_events(row, inline))
            elif row["status"] == TaskStatus.COMPLETED.value:
                events.append(
                    _completed_event(
                        row, actor, reason="test environment: completed with a sample response"
                    )
                )
        return events

    async def _insert_alone(self, item: _NewRow) -> Task | BaseException:
        try:
            (outcome,) = await self._insert_batch([item])
        except StoreFailed as exc:
            return exc
        return outcome

    async def _unique_id_holders(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
    ) -> dict[tuple[int, str, str], str]:
        """Which task holds each of these rows' unique_ids (named by DuplicateUniqueId).

        One query per account and environment, on the unique index's columns: SQLite
        reads `(a, e, u) IN ((…), …)` by scanning the whole table."""
        wanted: dict[tuple[int, str], set[str]] = {}
        for r in rows:
            if r["unique_id"] is None:  # no conflict to name
                continue
            wanted.setdefault((r["account_id"], r["environment"]), set()).add(r["unique_id"])
        holders: dict[tuple[int, str, str], str] = {}
        for (account_id, environment), unique_ids in wanted.items():
            found = await conn.execute(
                _HOLDERS,
                {"account_id": account_id, "environment": environment, "ids": sorted(unique_ids)},
            )
            for unique_id, task_id in found:
                holders[(account_id, environment, unique_id)] = task_id
        return holders

    async def get(self, principal: Principal, task_id: str) -> Task:
        async with self._db.read() as conn:
            return await self._get(conn, principal, task_id)

    async def _get(self, conn: AsyncConnection, principal: Principal, task_id: str) -> Task:
        row = (
            (await conn.execute(sa.select(tasks).where(*scoped(principal), tasks.c.id == task_id)))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"Task {task_id} not found")
        found = await audits_of(conn, [task_id])
        return task_from_row(row, found.get(task_id, ()))

    async def page(
        self,
        principal: Principal,
        where: TaskFilter,
        *,
        limit: int,
        before_id: str | None = None,
        with_audits: bool = True,
    ) -> TaskPage:
        """One page, newest first, and the exact total for the filter."""
        conditions = [*scoped(principal), *self._conditions(where)]
        page_query = sa.select(tasks).where(*conditions)
        if before_id is not None:
            page_query = page_query.where(tasks.c.id < before_id)
        page_query = page_query.order_by(tasks.c.id.desc()).limit(limit + 1)
        count_query = sa.select(sa.func.count()).select_from(tasks).where(*conditions)
        async with self._db.read() as conn:
            rows = (await conn.execute(page_query)).mappings().all()
            total = await conn.scalar(count_query) or 0
            has_more = len(rows) > limit
            rows = rows[:limit]
            found = await audits_of(conn, [r["id"] for r in rows]) if with_audits else {}
        docs = [task_from_row(row, found.get(row["id"], ())) for row in rows]
        return TaskPage(
            docs=docs, total=total, has_more=has_more, last_id=docs[-1].id if docs else None
        )

    def _conditions(self, where: TaskFilter) -> list[sa.ColumnElement[bool]]:
        c = tasks.c
        out: list[sa.ColumnElement[bool]] = []
        ranges: list[tuple[sa.Column[Any], datetime | None, datetime | None]] = [
            (c.created_at, where.created_after, where.created_before),
            (c.updated_at, where.updated_after, where.updated_before),
            (c.completed_at, where.completed_after, where.completed_before),
        ]
        for column, after, before in ranges:
            if after is not None:
                out.append(column >= after)
            if before is not None:
                out.append(column <= before)
        if where.statuses:
            out.append(c.status.in_([s.value for s in where.statuses]))
        for column, value in (
            (c.type, where.type),
            (c.project, where.project),
            (c.batch, where.batch),
        ):
            if value is not None:
                out.append(column == value)
        if where.review_statuses:
            wanted = [s for s in where.review_statuses if s != _NOT_REVIEWED]
            review: sa.ColumnElement[bool] = c.customer_review_status.in_(wanted)
            if _NOT_REVIEWED in where.review_statuses:
                review = sa.or_(review, c.customer_review_status.is_(None))
            out.append(review)
        if where.unique_ids:
            out.append(c.unique_id.in_(where.unique_ids))
        if where.tags:
            out.append(json_array_overlaps(c.tags, where.tags, self._db.dialect))
        return out
