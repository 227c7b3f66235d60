"""What the client commands print: rich tables for a person, JSON lines with --json."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import orjson
from rich.console import Console
from rich.table import Table

Getter = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    get: Getter


def field(name: str) -> Getter:
    """The value at `name`, where `a.b` reads `doc["a"]["b"]`."""

    def get(doc: dict[str, Any]) -> Any:
        value: Any = doc
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return get


def col(header: str, name: str | None = None) -> Column:
    return Column(header, field(name or header.lower()))


def cell(value: Any) -> str:
    """A table cell: empty for None, JSON for lists and objects, the text otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


class Output:
    """Prints documents as a table (a person) or as JSON lines (`--json`)."""

    def __init__(self, *, as_json: bool, out: IO[str] | None = None) -> None:
        self.as_json = as_json
        self._out = out or sys.stdout
        self._console = Console(
            file=self._out,
            width=None if self._out.isatty() else 200,
            highlight=False,
            soft_wrap=False,
        )

    def line(self, doc: Any) -> None:
        """One JSON document on a line of its own."""
        self._out.write(orjson.dumps(doc).decode() + "\n")
        self._out.flush()

    def text(self, message: str) -> None:
        self._console.print(message, markup=False)

    def table(
        self, docs: Iterable[dict[str, Any]], columns: Sequence[Column], *, title: str | None = None
    ) -> None:
        """The docs as a table, or as JSON lines with --json (whole documents, every field)."""
        if self.as_json:
            for doc in docs:
                self.line(doc)
            return
        if title:  # a line of its own: a table's title would wrap to the table's width
            self.text(title)
        table = Table(show_edge=False, pad_edge=False)
        for column in columns:
            table.add_column(column.header, overflow="fold")
        for doc in docs:
            table.add_row(*(cell(c.get(doc)) for c in columns))
        self._console.print(table)

    def event(self, event: dict[str, Any]) -> None:
        """One followed event: a JSON line, or its columns on one line of text."""
        if self.as_json:
            self.line(event)
        else:
            self.text("  ".join(cell(c.get(event)) for c in EVENT_COLUMNS))

    def pairs(self, doc: dict[str, Any], names: Sequence[str], *, title: str | None = None) -> None:
        """A two-column table of `names` and their values in `doc` (present ones only)."""
        table = Table(title=title, title_justify="left", show_header=False, show_edge=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for name in names:
            if name in doc and doc[name] not in (None, [], {}):
                table.add_row(name, cell(doc[name]))
        self._console.print(table)


TASK_COLUMNS = (
    col("TASK_ID", "task_id"),
    col("TYPE"),
    col("STATUS"),
    col("CREATED", "created_at"),
    col("UNIQUE_ID", "unique_id"),
    col("PROJECT"),
    col("BATCH"),
)
TASK_FIELDS = (
    "task_id",
    "type",
    "status",
    "created_at",
    "updated_at",
    "completed_at",
    "unique_id",
    "project",
    "batch",
    "tags",
    "priority",
    "callback_url",
    "callback_completed",
    "instruction",
    "params",
    "response",
    "metadata",
)
EVENT_COLUMNS = (
    col("ID"),
    col("AT"),
    col("TASK_ID", "task_id"),
    col("ACTION"),
    col("ACTOR"),
    Column("STATUS", lambda e: _change(e.get("from_status"), e.get("to_status"))),
    col("REASON"),
)
TIMELINE_COLUMNS = tuple(c for c in EVENT_COLUMNS if c.header not in ("ID", "TASK_ID"))
FAILED_DELIVERY_COLUMNS = (
    col("AT"),
    col("TASK_ID", "task_id"),
    col("DELIVERY_ID", "details.delivery_id"),
    col("ACTION"),
    col("ATTEMPTS", "details.attempt"),
    col("HTTP", "details.status_code"),
    Column("ERROR", lambda e: e.get("reason") or field("details.error")(e)),
)
ATTEMPT_COLUMNS = (
    col("AT"),
    col("HTTP", "status_code"),
    col("MS", "duration_ms"),
    Column("ERROR", lambda a: a.get("error") or a.get("detail")),
)


def _change(before: Any, after: Any) -> str:
    if before == after or after is None:
        return cell(before)
    return f"{cell(before)} → {after}" if before else str(after)


def show_task(
    output: Output,
    task: dict[str, Any],
    events: list[dict[str, Any]],
    deliveries: list[dict[str, Any]],
) -> None:
    """A task's fields, its event timeline, and each delivery with its attempts."""
    if output.as_json:
        output.line(task | {"events": events, "deliveries": deliveries})
        return
    output.pairs(task, TASK_FIELDS)
    output.table(events, TIMELINE_COLUMNS, title="timeline")
    for d in deliveries:
        title = f"delivery {d.get('id')} ({d.get('event')}, {d.get('status')}) to {d.get('url')}"
        output.table(d.get("attempts") or [], ATTEMPT_COLUMNS, title=title)
    if not deliveries:
        output.text("no callback deliveries")
