"""Rows as domain values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hookline.models import Audit, Principal, Task, TaskStatus
from hookline.store.tables import tasks


def task_from_row(row: Mapping[Any, Any], task_audits: Sequence[Audit] = ()) -> Task:
    return Task(
        id=row["id"],
        type=row["type"],
        status=TaskStatus(row["status"]),
        instruction=row["instruction"],
        params=row["params"],
        response=row["response"],
        error=row["error"],
        metadata=row["metadata"],
        tags=row["tags"],
        unique_id=row["unique_id"],
        project=row["project"],
        batch=row["batch"],
        callback_url=row["callback_url"],
        callback_completed=row["callback_completed"],
        times_redone=row["times_redone"],
        priority=row["priority"],
        customer_review_status=row["customer_review_status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        audits=tuple(task_audits),
        attempts=row["attempts"],
        worker=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
    )


def scoped(principal: Principal | None) -> list[sa.ColumnElement[bool]]:
    """Conditions that keep a query inside the principal's account and environment."""
    if principal is None:
        return []
    return [
        tasks.c.account_id == principal.account_id,
        tasks.c.environment == principal.environment.value,
    ]
