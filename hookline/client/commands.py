"""The client commands: `hookline submit|tasks|events|deliveries|stats`.

Each talks to the HTTP API at --url (HOOKLINE_URL) with --key (HOOKLINE_KEY),
never to the database. Errors are one line on stderr and a non-zero exit.
Shell completion: `eval "$(_HOOKLINE_COMPLETE=bash_source hookline)"` (zsh_source, fish_source).
"""

from __future__ import annotations

import asyncio
import collections
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from hookline.client.http import (
    DEFAULT_URL,
    ApiClient,
    ApiError,
    ClientError,
    after_token,
    base_url,
    open_client,
    path_of,
)
from hookline.client.render import (
    EVENT_COLUMNS,
    FAILED_DELIVERY_COLUMNS,
    TASK_COLUMNS,
    Column,
    Output,
    col,
    show_task,
)
from hookline.client.stats import MAX_EVENT_PAGES, Stats, failed_callbacks_query, task_queries
from hookline.client.submit import Run, numbered, reporter_for, submit
from hookline.models import TaskStatus

Work = Callable[[ApiClient], Awaitable[int]]
EXIT_INTERRUPTED = 130
MAX_TIMELINE_PAGES = 100


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(ctx_url: str, key: str | None, work: Work, *, connections: int = 4) -> None:
    """Run `work` with a client of the API; its result is the exit code."""
    if not key:
        raise click.ClickException("no API key: give --key or set HOOKLINE_KEY")
    try:
        base_url(ctx_url)
    except ClientError as exc:
        raise click.ClickException(exc.message) from exc

    async def main() -> int:
        async with open_client(ctx_url, key, connections=connections) as client:
            return await work(client)

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            code = runner.run(main())
    except ClientError as exc:
        raise click.ClickException(exc.message) from exc
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    if code:
        sys.exit(code)


def api_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--url, --key and --json."""
    f = click.option("--json", "as_json", is_flag=True, help="JSON lines instead of tables.")(f)
    f = click.option(
        "--key", envvar="HOOKLINE_KEY", help="API key [env HOOKLINE_KEY].", show_envvar=False
    )(f)
    return click.option(
        "--url",
        envvar="HOOKLINE_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="The server [env HOOKLINE_URL].",
    )(f)


def _page_hint(next_token: str | None) -> None:
    if next_token:
        click.echo(f"more: --next-token {next_token}", err=True)


@click.command("submit", short_help="Create a task per line of a JSONL file.")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--type", "task_type", required=True, help="Task type (POST /v1/task/TYPE).")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Requests in flight.",
)
@click.option("--callback-url", help="callback_url of lines that have none.")
@api_options
def submit_command(
    file: Path,
    task_type: str,
    concurrency: int,
    callback_url: str | None,
    url: str,
    key: str | None,
    as_json: bool,
) -> None:
    """Create a task of type TYPE for each line of FILE (one JSON object a line, the
    task body: instruction, params, callback_url, unique_id, tags, ...).

    Safe to interrupt (Ctrl-C) and run again: a line's `unique_id` makes the second
    create a duplicate. A line without one gets `line-` + the SHA-256 of the type and
    the line's canonical JSON (sorted keys), so an unchanged line is never created twice.

    Ends with created / duplicate / invalid and each invalid line's number and message.
    Exit 0 when every line was created or a duplicate, 1 otherwise, 130 when interrupted.
    """
    total = _count_lines(file)

    async def work(client: ApiClient) -> int:
        with file.open("rb") as lines:
            result = await submit(
                client,
                Run(task_type=task_type, concurrency=concurrency, callback_url=callback_url),
                numbered(lines),
                reporter_for(total),
            )
        output, elapsed_s = Output(as_json=as_json), round(result.elapsed_s, 3)
        if as_json:
            extra = {"interrupted": result.interrupted, "elapsed_s": elapsed_s}
            output.line(result.summary.as_json() | extra)
        else:
            per_s = result.summary.done / elapsed_s if elapsed_s else 0.0
            output.text(f"{result.summary.done} lines in {elapsed_s:.1f} s ({per_s:.0f}/s)")
            for text in result.summary.report():
                output.text(text)
        left = total - result.summary.done
        if result.fatal:
            click.echo(f"Error: {result.fatal}", err=True)
        if result.interrupted:
            click.echo(f"interrupted: {left} lines not sent; run again to go on", err=True)
            return EXIT_INTERRUPTED
        return 0 if result.summary.ok and not result.fatal else 1

    run(url, key, work, connections=concurrency)


def _count_lines(file: Path) -> int:
    """Non-blank lines, for the progress bar's total."""
    try:
        with file.open("rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from exc


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
        _page_hint(page.get("next_token"))
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


@click.group("events")
def events_group() -> None:
    """The audit trail (GET /v1/events)."""


def _hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


@events_group.command("tail", short_help="The latest events; --follow for new ones.")
@click.option("--task", "task_id", help="Only this task's events.")
@click.option(
    "--action", "actions", multiple=True, help="created, completed, callback_failed, ... (repeat)."
)
@click.option("--actor", help="Key id, or 'system'.")
@click.option("--project", help="Project name.")
@click.option("--since", help="From this time [default: an hour ago].")
@click.option(
    "-n",
    "--lines",
    type=click.IntRange(0, 10_000),
    default=20,
    show_default=True,
    help="Events shown before following.",
)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new events until Ctrl-C.")
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Seconds between polls.",
)
@api_options
def events_tail(
    url: str,
    key: str | None,
    as_json: bool,
    lines: int,
    follow: bool,
    interval: float,
    **filters: Any,
) -> None:
    """The last --lines events since --since, then (--follow) new ones as they come."""
    params = [("since", filters["since"] or _hour_ago())]
    params += [("action", ",".join(filters["actions"]))] if filters["actions"] else []
    params += [(k, v) for k in ("task_id", "actor", "project") if (v := filters[k])]

    async def work(client: ApiClient) -> int:
        output = Output(as_json=as_json)
        last: collections.deque[dict[str, Any]] = collections.deque(maxlen=lines)
        last_id = await _read_events(client, params, None, last.append)
        output.table(last, EVENT_COLUMNS)
        while follow:
            await asyncio.sleep(interval)
            last_id = await _read_events(client, params, last_id, output.event)
        return 0

    run(url, key, work)


async def _read_events(
    client: ApiClient,
    params: list[tuple[str, str]],
    after_id: int | None,
    each: Callable[[dict[str, Any]], Any],
) -> int | None:
    """Every event after `after_id`, oldest first, to `each`; the id of the last one read."""
    while True:
        token = [("next_token", after_token(after_id))] if after_id is not None else []
        page = await client.get("/v1/events", [*params, ("limit", "100"), *token])
        for event in page["docs"]:
            each(event)
            after_id = event["id"]
        if not page["has_more"]:
            return after_id


@click.group("deliveries")
def deliveries_group() -> None:
    """Callback deliveries: their outcomes, resend, replay."""


@deliveries_group.command("ls", short_help="Deliveries that succeeded or failed for good.")
@click.option("--failed", is_flag=True, help="Only those that failed (every attempt spent).")
@click.option("--task", "task_id", help="Only this task's.")
@click.option("--project", help="Project name.")
@click.option("--since", help="From this time [default: an hour ago].")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
@click.option("--next-token", help="The page after the one that printed it.")
@api_options
def deliveries_ls(
    url: str,
    key: str | None,
    as_json: bool,
    failed: bool,
    since: str | None,
    limit: int,
    **filters: Any,
) -> None:
    """Final delivery outcomes from the audit trail (callback_delivered / callback_failed
    events), oldest first; prints the next page's token on stderr."""
    actions = "callback_failed" if failed else "callback_delivered,callback_failed"
    params = [("action", actions), ("since", since or _hour_ago()), ("limit", str(limit))]
    params += [(k, v) for k in ("task_id", "project", "next_token") if (v := filters[k])]

    async def work(client: ApiClient) -> int:
        page = await client.get("/v1/events", params)
        Output(as_json=as_json).table(page["docs"], FAILED_DELIVERY_COLUMNS)
        _page_hint(page.get("next_token"))
        return 0

    run(url, key, work)


DELIVERY_COLUMNS = (
    col("TASK_ID", "task_id"),
    col("DELIVERY_ID", "id"),
    col("EVENT"),
    col("STATUS"),
    col("NEXT_ATTEMPT_AT", "next_attempt_at"),
    Column("ATTEMPTS", lambda d: len(d.get("attempts") or [])),
)


@deliveries_group.command("resend", short_help="Send tasks' callbacks again now.")
@click.argument("task_ids", nargs=-1, required=True)
@api_options
def deliveries_resend(url: str, key: str | None, as_json: bool, task_ids: tuple[str, ...]) -> None:
    """Re-queue the latest callback of each task (POST /v1/task/ID/callbacks/resend)."""

    async def work(client: ApiClient) -> int:
        shown, failed = [], 0
        for task_id in task_ids:
            try:
                found = await client.post(path_of("task", task_id, "callbacks", "resend"))
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise
                failed += 1
                click.echo(f"{task_id}: {exc.message}", err=True)
                continue
            if not found["deliveries"]:
                failed += 1
                click.echo(
                    f"{task_id}: no callback to send (no callback_url, or not finished)", err=True
                )
            shown += [d | {"task_id": task_id} for d in found["deliveries"][-1:]]
        Output(as_json=as_json).table(shown, DELIVERY_COLUMNS)
        return 1 if failed else 0

    run(url, key, work)


@deliveries_group.command("replay", short_help="Re-queue failed deliveries in bulk.")
@click.option("--since", required=True, help="Deliveries that ended at or after this time.")
@click.option("--until", help="... and at or before this one.")
@click.option(
    "--status", type=click.Choice(["failed", "succeeded"]), default="failed", show_default=True
)
@api_options
def deliveries_replay(
    url: str, key: str | None, as_json: bool, since: str, until: str | None, status: str
) -> None:
    """Send again every delivery of the key's environment in --status since --since."""
    body = {"since": since, "status": status} | ({"until": until} if until else {})

    async def work(client: ApiClient) -> int:
        answer = await client.post("/v1/callbacks/replay", body)
        output = Output(as_json=as_json)
        if as_json:
            output.line(answer)
        else:
            output.text(f"replayed {answer['replayed']} deliveries")
        return 0

    run(url, key, work)


@click.command("stats", short_help="Queue depth, task counts and rates of the last hour.")
@api_options
def stats_command(url: str, key: str | None, as_json: bool) -> None:
    """Pending tasks, tasks by status, tasks created and completed in the last hour,
    callbacks that failed in the last hour (from the list endpoints: a count each)."""

    async def work(client: ApiClient) -> int:
        stats = await read_stats(client, datetime.now(UTC))
        output = Output(as_json=as_json)
        if as_json:
            output.line(stats.as_json())
        else:
            output.table(stats.rows(), (col("FIGURE"), col("VALUE")))
        return 0

    run(url, key, work)


async def read_stats(client: ApiClient, now: datetime) -> Stats:
    queries = task_queries(now)
    pages = await asyncio.gather(*(client.get("/v1/tasks", q) for q in queries.values()))
    totals = {name: int(page["total"]) for name, page in zip(queries, pages, strict=True)}
    failed, token, capped = 0, None, False
    for number in range(MAX_EVENT_PAGES):
        page = await client.get("/v1/events", failed_callbacks_query(now, token))
        failed += len(page["docs"])
        token = page.get("next_token")
        if not token:
            break
        capped = number == MAX_EVENT_PAGES - 1
    return Stats(
        at=now, totals=totals, callbacks_failed_last_hour=failed, callbacks_failed_capped=capped
    )


COMMANDS = (submit_command, tasks_group, events_group, deliveries_group, stats_command)
"""What `hookline.cli` adds to the `hookline` group."""
