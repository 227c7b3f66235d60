"""Rows as domain values, the scope every tenant query keeps to, and fetching rows."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import DuplicateName, NotFound
from hookline.models import Audit, Principal, Task, TaskStatus
from hookline.store.dialect import insert, locked
from hookline.store.tables import tasks

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


@functools.cache
def _field_names(cls: type[DataclassInstance]) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def from_row(cls: type[T], row: Mapping[Any, Any], **values: Any) -> T:
    """A `cls` (a dataclass) whose fields are the row's columns of the same names, except
    those given in `values`."""
    return cls(**{name: row[name] for name in _field_names(cls) - values.keys()}, **values)


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


def in_scope(table: sa.Table, principal: Principal) -> list[sa.ColumnElement[bool]]:
    """Conditions that keep a query of `table` inside the principal's account and environment."""
    return [
        table.c.account_id == principal.account_id,
        table.c.environment == principal.environment.value,
    ]


def scoped(principal: Principal | None) -> list[sa.ColumnElement[bool]]:
    """`in_scope` for tasks; no condition without a principal (the dispatcher's view)."""
    return [] if principal is None else in_scope(tasks, principal)


async def first_row(conn: AsyncConnection, stmt: sa.Executable) -> sa.RowMapping | None:
    """The first row `stmt` answers, or None."""
    return (await conn.execute(stmt)).mappings().first()


async def all_rows(conn: AsyncConnection, stmt: sa.Executable) -> Sequence[sa.RowMapping]:
    """Every row `stmt` answers."""
    return (await conn.execute(stmt)).mappings().all()


def found(row: sa.RowMapping | None, missing: str) -> sa.RowMapping:
    """`row`, or `NotFound(missing)` if there is none."""
    if row is None:
        raise NotFound(missing)
    return row


def insert_named(table: sa.Table, principal: Principal, dialect: str, **values: Any) -> Any:
    """An INSERT of a named row (`values` holds its `name`) in the principal's scope that does
    nothing if the name is taken there; returning the row."""
    return (
        insert(table, dialect)
        .values(account_id=principal.account_id, environment=principal.environment.value, **values)
        .on_conflict_do_nothing(index_elements=["account_id", "environment", "name"])
        .returning(*table.c)
    )


def inserted(row: sa.RowMapping | None, taken: str) -> sa.RowMapping:
    """`row` (what an INSERT ... ON CONFLICT DO NOTHING returned), or `DuplicateName(taken)`
    if the name was taken."""
    if row is None:
        raise DuplicateName(taken)
    return row


async def by_name(
    conn: AsyncConnection, table: sa.Table, principal: Principal, name: str, *, lock: bool = False
) -> sa.RowMapping | None:
    """The row of `table` called `name` in the principal's scope (locked for update on request)."""
    query = sa.select(table).where(*in_scope(table, principal), table.c.name == name)
    return await first_row(conn, locked(query, conn.dialect.name) if lock else query)
