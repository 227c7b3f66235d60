"""The client commands: `hookline submit|tasks|events|deliveries|stats`.

Each talks to the HTTP API at --url (HOOKLINE_URL) with --key (HOOKLINE_KEY),
never to the database. Errors are one line on stderr and a non-zero exit.
Shell completion: `eval "$(_HOOKLINE_COMPLETE=bash_source hookline)"` (zsh_source, fish_source).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import click

from hookline.client.feeds import deliveries_group, events_group
from hookline.client.http import ApiClient
from hookline.client.render import Output, col
from hookline.client.runner import EXIT_INTERRUPTED, api_options, run
from hookline.client.stats import MAX_EVENT_PAGES, Stats, failed_callbacks_query, task_queries
from hookline.client.submit import Run, numbered, reporter_for, submit
from hookline.client.tasks import tasks_group


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
