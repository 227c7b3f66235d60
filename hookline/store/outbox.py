"""The callback outbox: deliveries written in the transaction whose change they announce.

A delivery row is inserted in the same transaction as the completion (or
error, or batch completion) it announces, so a committed change always gets
its callback. The schedule lives in `next_attempt_at`, so "due" is a query;
the sender's side is `store/sending.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.models import JSON, DeliveryStatus, Environment
from hookline.serialize import task_json
from hookline.store.base import Database, after_commit, on_rollback
from hookline.store.rows import task_from_row
from hookline.store.sending import signed
from hookline.store.sqlite_plans import prepared
from hookline.store.tables import deliveries


def task_payload(row: Mapping[Any, Any]) -> dict[str, JSON]:
    """The callback body: Scale's `{task_id, status, response, task}`."""
    task = task_from_row(row)
    return {
        "task_id": task.id,
        "status": task.status.value,
        "response": task.response,
        "task": task_json(task, is_test=row["environment"] == Environment.TEST.value),
    }


def delivery_row(
    db: Database,
    *,
    account_id: int,
    environment: str,
    url: str,
    event: str,
    payload: dict[str, JSON],
    task_id: str | None = None,
    batch: str | None = None,
) -> dict[str, Any]:
    """A new pending delivery, first due after `first_callback_delay_s`."""
    now = db.clock()
    return {
        "id": db.ids(now),
        "account_id": account_id,
        "environment": environment,
        "task_id": task_id,
        "batch": batch,
        "event": event,
        "url": url,
        "host": (urlsplit(url).hostname or "").lower()[:300],
        "payload": payload,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now + timedelta(seconds=db.first_callback_delay_s),
        "lease_owner": None,
        "lease_expires_at": None,
        "last_status_code": None,
        "created_at": now,
        "updated_at": now,
    }


_INSERT = prepared(sa.insert(deliveries))


async def enqueue(db: Database, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert deliveries (`delivery_row`s): the ones this process's sender takes (see
    `signals.Handoff`) already leased to it, handed over once the caller commits; the
    others pending, with the senders woken once it commits."""
    if not rows:
        return
    handoff = db.signals.handoff
    taken: list[dict[str, Any]] = []
    now = db.clock()
    if handoff is not None and db.first_callback_delay_s <= 0:
        leased = {
            "status": DeliveryStatus.DELIVERING.value,
            "lease_owner": handoff.worker,
            "lease_expires_at": now + timedelta(seconds=handoff.lease_s),
        }
        picks = handoff.take([row["host"] for row in rows])
        rows = [row | leased if pick else row for row, pick in zip(rows, picks, strict=True)]
        taken = [row for row, pick in zip(rows, picks, strict=True) if pick]
    await conn.execute(_INSERT, list(rows))
    if handoff is not None and taken:
        hosts = [row["host"] for row in taken]
        on_rollback(conn, partial(handoff.cancel, hosts))
        due = await signed(conn, taken, now)
        after_commit(conn, partial(handoff.give, due))
    if len(taken) < len(rows):
        await db.announce_callbacks(conn)


async def enqueue_task_callbacks(
    db: Database, conn: AsyncConnection, rows: Sequence[Mapping[Any, Any]]
) -> None:
    """A delivery for each of these finished tasks that has a callback_url."""
    await enqueue(
        db,
        conn,
        [
            delivery_row(
                db,
                account_id=row["account_id"],
                environment=row["environment"],
                url=row["callback_url"],
                event=f"task.{row['status']}",
                payload=task_payload(row),
                task_id=row["id"],
            )
            for row in rows
            if row["callback_url"]
        ],
    )
