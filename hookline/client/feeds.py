"""`hookline events tail` and `hookline deliveries ls|resend|replay`: the audit trail and callbacks."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from hookline.client.http import ApiClient, ApiError, after_token, path_of
from hookline.client.render import EVENT_COLUMNS, FAILED_DELIVERY_COLUMNS, Column, Output, col
from hookline.client.runner import api_options, page_hint, run


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
        page_hint(page.get("next_token"))
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
