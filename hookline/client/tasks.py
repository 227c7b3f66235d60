"""`hookline tasks ls|show|cancel|redo|retry` over the API."""

from __future__ import annotations

from typing import Any

import click

from hookline.client.http import ApiClient, ApiError, path_of
from hookline.client.render import TASK_COLUMNS, Output, col, show_task
from hookline.client.runner import api_options, page_hint, run
from hookline.models import TaskStatus

MAX_TIMELINE_PAGES = 100


@click.group("tasks")
def tasks_group() -> None:
    """List, show, cancel and redo tasks (over the API)."""


@tasks_group.command("ls", short_help="List tasks, newest first.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in TaskStatus]),
    help="Repeat for several.",
)
@click.option("--type", "task_type", help="Task type.")
@click.option("--project", help="Project name.")
@click.option("--batch", help="Batch name.")
@click.option("--tag", "tags", multiple=True, help="Has this tag; repeat for several.")
@click.option("--unique-id", help="Its unique_id.")
@click.option("--start-time", help="Created at or after (YYYY-MM-DD or ISO 8601).")
@click.option("--end-time", help="Created before.")
@click.option("--completed-after", help="Completed at or after.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--next-token", help="The page after the one that printed it.")
@api_options
def tasks_ls(
    url: str,
    key: str | None,
    as_json: bool,
    statuses: tuple[str, ...],
    tags: tuple[str, ...],
    **filters: Any,
) -> None:
    """List tasks with the filters of GET /v1/tasks; prints the next page's token on stderr."""
    params = [(k, str(v)) for k, v in filters.items() if v is not None and k != "task_type"]
    params += [("status", ",".join(statuses))] if statuses else []
    params += [("type", filters["task_type"])] if filters["task_type"] else []
    params += [("tags", t) for t in tags]

    async def work(client: ApiClient) -> int:
        page = await client.get("/v1/tasks", params)
        Output(as_json=as_json).table(page["docs"], TASK_COLUMNS)
        page_hint(page.get("next_token"))
        return 0

    run(url, key, work)


@tasks_group.command("show", short_help="A task, its event timeline and callback attempts.")
@click.argument("task_id")
@api_options
def tasks_show(url: str, key: str | None, as_json: bool, task_id: str) -> None:
    """A task's fields, its events oldest first, and each callback delivery with its attempts."""

    async def work(client: ApiClient) -> int:
        task = await client.get(path_of("task", task_id))
        events: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_TIMELINE_PAGES):
            params = [("next_token", token)] if token else []
            page = await client.get(path_of("task", task_id, "events"), params)
            events += page["docs"]
            token = page.get("next_token")
            if not token:
                break
        found = await client.get(path_of("task", task_id, "callbacks"))
        show_task(Output(as_json=as_json), task, events, found["deliveries"])
        return 0

    run(url, key, work)


def _each_task(
    action: str,
    url: str,
    key: str | None,
    as_json: bool,
    ids: tuple[str, ...],
    *,
    body: Any = None,
    params: list[tuple[str, str]] | None = None,
) -> None:
    """POST /v1/task/ID/ACTION for each id; a refusal is a line on stderr and exit 1."""

    async def work(client: ApiClient) -> int:
        output, failed, done = Output(as_json=as_json), 0, []
        for task_id in ids:
            try:
                done.append(await client.post(path_of("task", task_id, action), body, params or ()))
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise
                failed += 1
                click.echo(f"{task_id}: {exc.message}", err=True)
        output.table(done, (col("TASK_ID", "task_id"), col("STATUS"), col("TYPE")))
        return 1 if failed else 0

    run(url, key, work)


@tasks_group.command("cancel", short_help="Cancel pending tasks.")
@click.argument("task_ids", nargs=-1, required=True)
@click.option("--clear-unique-id", is_flag=True, help="Free their unique_ids for new tasks.")
@api_options
def tasks_cancel(
    url: str, key: str | None, as_json: bool, task_ids: tuple[str, ...], clear_unique_id: bool
) -> None:
    """Cancel each pending task (POST /v1/task/ID/cancel)."""
    params = [("clear_unique_id", "true")] if clear_unique_id else None
    _each_task("cancel", url, key, as_json, task_ids, params=params)


@tasks_group.command("redo", short_help="Send completed tasks back to pending.")
@click.argument("task_ids", nargs=-1, required=True)
@click.option("--reason", help="Recorded in the audit trail.")
@api_options
def tasks_redo(
    url: str, key: str | None, as_json: bool, task_ids: tuple[str, ...], reason: str | None
) -> None:
    """Send each completed task back to pending (POST /v1/task/ID/redo)."""
    _each_task("redo", url, key, as_json, task_ids, body={"reason": reason} if reason else {})


@tasks_group.command("retry", short_help="Send errored tasks back to pending.")
@click.argument("task_ids", nargs=-1, required=True)
@click.option("--reason", help="Recorded in the audit trail.")
@api_options
def tasks_retry(
    url: str, key: str | None, as_json: bool, task_ids: tuple[str, ...], reason: str | None
) -> None:
    """Send each errored task back to pending (POST /v1/task/ID/retry)."""
    _each_task("retry", url, key, as_json, task_ids, body={"reason": reason} if reason else {})
