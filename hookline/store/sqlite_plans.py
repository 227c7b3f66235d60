"""The pipeline's own statements, run by the SQLite writer straight on its sqlite3 cursor.

A statement marked with `prepared` is compiled by SQLAlchemy once per shape
(its parameter names, and the length of each expanding IN list): the SQL text,
the order of its parameters and each one's type processing are SQLAlchemy's,
kept in a `Plan`. On the writer's thread (`sqlite_writer.ThreadConnection`) the
plan then runs on the driver's cursor directly, which skips SQLAlchemy's
per-execution work (cache-key lookup, execution context, parameter and result
objects): that work cost more CPU than SQLite itself for these small statements.
Errors are SQLAlchemy's, wrapped as it wraps them (an IntegrityError is still a
`sqlalchemy.exc.IntegrityError`), and keep the engine's `hide_parameters`: a task's
payload never lands in a log line through them.

A statement that needs what a plan does not do (an empty IN list, Python-side
defaults, several rows with RETURNING, parameters rendered into the SQL) goes
through SQLAlchemy as before, as does everything on PostgreSQL and on the
asyncio engine: marking a statement changes how it runs, never what it does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

S = TypeVar("S", bound=sa.Executable)

_PREPARED: dict[int, sa.Executable] = {}


def prepared(statement: S) -> S:
    """Mark a statement built once (a module constant or a cached builder's) for plans."""
    _PREPARED[id(statement)] = statement
    return statement


def is_prepared(statement: object) -> bool:
    return _PREPARED.get(id(statement)) is statement


Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Bind:
    name: str
    default: Any
    """The value the statement itself holds (a literal in a WHERE clause), if not passed."""
    given: bool
    """Whether the caller passes it (otherwise `default`)."""
    process: Processor
    expanding: bool


@dataclass(frozen=True, slots=True)
class Plan:
    sql: str
    binds: tuple[Bind, ...]
    keys: tuple[str, ...]
    """The names of the columns it answers (none: it answers no rows)."""
    results: tuple[Processor, ...]
    expands: bool
    """Whether it has an expanding IN list (its SQL then depends on the lists' lengths)."""


class Rows:
    """What a plan answered, as much of SQLAlchemy's `Result` as the store uses."""

    __slots__ = ("_keys", "_rows", "rowcount")

    def __init__(self, keys: tuple[str, ...], rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._keys = keys
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalars(self) -> Column:
        return Column([row[0] for row in self._rows])

    def mappings(self) -> Column:
        keys = self._keys
        return Column([dict(zip(keys, row, strict=True)) for row in self._rows])


class Column:
    """A plan's rows as single values or as mappings (`Rows.scalars`, `Rows.mappings`)."""

    __slots__ = ("_items",)

    def __init__(self, items: list[Any]) -> None:
        self._items = items

    def all(self) -> list[Any]:
        return self._items

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def first(self) -> Any:
        return self._items[0] if self._items else None

    def one(self) -> Any:
        if len(self._items) != 1:
            raise sa.exc.NoResultFound() if not self._items else sa.exc.MultipleResultsFound()
        return self._items[0]


_Shape = tuple[int, tuple[str, ...]]
"""A statement (by identity: prepared ones live as long as the process) and its
parameter names."""
_UNPLANNED: Any = object()


class Plans:
    """The plans of one SQLite dialect, and running them on a sqlite3 connection."""

    def __init__(self, dialect: sa.Dialect, *, hide_parameters: bool) -> None:
        self._dialect = dialect
        self._hide_parameters = hide_parameters
        self._plans: dict[_Shape, Plan | None] = {}
        self._sized: dict[tuple[_Shape, tuple[int, ...]], str] = {}

    def run(self, driver: sqlite3.Connection, statement: sa.Executable, parameters: Any) -> Any:
        """Run a prepared statement; None if it has no plan for these parameters (the
        caller runs it through SQLAlchemy; nothing has been executed)."""
        many = isinstance(parameters, list)
        if many and len(parameters) == 1:
            many, parameters = False, parameters[0]  # one row: one statement (RETURNING too)
        first: Mapping[str, Any] = (parameters[0] if many else parameters) or {}
        shape = (id(statement), tuple(sorted(first)))
        plan = self._plans.get(shape, _UNPLANNED)
        if plan is _UNPLANNED:
            plan = self._plans[shape] = self._plan(statement, shape[1])
        if plan is None:
            return None
        if many:
            if plan.keys or plan.expands:
                return None  # several rows with RETURNING or IN lists: SQLAlchemy's way
            values = [self._values(plan, row) for row in parameters]
            return self._execute(driver, plan, plan.sql, values, many=True)
        sql = plan.sql
        if plan.expands:
            sizes = tuple(len(first[b.name]) for b in plan.binds if b.expanding)
            if 0 in sizes:
                return None  # SQLAlchemy renders an empty IN as an expression of its own
            sql = self._sized_sql(shape, plan, sizes)
        return self._execute(driver, plan, sql, self._values(plan, first), many=False)

    def _plan(self, statement: sa.Executable, keys: tuple[str, ...]) -> Plan | None:
        compiled = cast(sa.ClauseElement, statement).compile(
            dialect=self._dialect, column_keys=list(keys)
        )
        if (
            not isinstance(compiled, SQLCompiler)
            or not compiled.positional
            or compiled.positiontup is None
            or compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.literal_execute_params
            or compiled.escaped_bind_names
        ):
            return None
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if bind.literal_execute or (bind.required and name not in keys):
                return None  # SQLAlchemy renders it, or refuses the parameters
            processor = bind.type.dialect_impl(self._dialect).bind_processor(self._dialect)
            binds.append(
                Bind(
                    name=name,
                    default=bind.effective_value,
                    given=name in keys,
                    process=processor,
                    expanding=bind.expanding,
                )
            )
        # What it answers: a SELECT's columns, or the RETURNING ones (none for other DML).
        columns = list(getattr(statement, "exported_columns", ()))
        return Plan(
            expands=any(bind.expanding for bind in binds),
            sql=compiled.string,
            binds=tuple(binds),
            keys=tuple(column.key for column in columns),
            results=tuple(
                column.type.dialect_impl(self._dialect).result_processor(self._dialect, None)
                for column in columns
            ),
        )

    def _sized_sql(self, shape: _Shape, plan: Plan, sizes: tuple[int, ...]) -> str:
        sql = self._sized.get((shape, sizes))
        if sql is None:
            sql = plan.sql
            expanding = [b for b in plan.binds if b.expanding]
            for bind, size in zip(expanding, sizes, strict=True):
                sql = sql.replace(f"__[POSTCOMPILE_{bind.name}]", ", ".join("?" * size))
            if len(self._sized) < 4096:
                self._sized[(shape, sizes)] = sql
        return sql

    @staticmethod
    def _values(plan: Plan, parameters: Mapping[str, Any]) -> list[Any]:
        values: list[Any] = []
        for bind in plan.binds:
            value = parameters[bind.name] if bind.given else bind.default
            process = bind.process
            if bind.expanding:
                values.extend(value if process is None else [process(v) for v in value])
            else:
                values.append(value if process is None else process(value))
        return values

    def wrapped(
        self, error: sqlite3.Error, sql: str, values: Any, *, many: bool = False
    ) -> sa.exc.StatementError:
        """The driver's error as SQLAlchemy raises it (`IntegrityError`, `OperationalError`
        …), its parameters hidden if the engine hides them."""
        return sa.exc.DBAPIError.instance(
            sql,
            values,
            error,
            sqlite3.Error,
            hide_parameters=self._hide_parameters,
            dialect=self._dialect,
            ismulti=many,
        )

    def _execute(
        self, driver: sqlite3.Connection, plan: Plan, sql: str, values: Any, *, many: bool
    ) -> Rows:
        cursor = driver.cursor()
        try:
            if many:
                cursor.executemany(sql, values)
            else:
                cursor.execute(sql, values)
            rows = cursor.fetchall() if plan.keys else []
            rowcount = cursor.rowcount
        except sqlite3.Error as exc:
            raise self.wrapped(exc, sql, values, many=many) from exc
        finally:
            cursor.close()
        if rows and any(plan.results):
            results = plan.results
            rows = [
                tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True))
                for row in rows
            ]
        return Rows(plan.keys, rows, rowcount)
