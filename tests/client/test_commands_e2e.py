"""`hookline tasks|events|deliveries|stats` against a real `hookline serve`."""

from __future__ import annotations

import json
import signal
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.client.conftest import Cli, Receiver, wait_for
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e

PENDING_TYPE = "clitest"  # no handler: stays pending


def _create(cli: Cli, task_type: str = PENDING_TYPE, **fields: Any) -> dict[str, Any]:
    body = {"instruction": "cli", "tags": [fields.pop("tag", "cli")]} | fields
    task: dict[str, Any] = cli.api("POST", f"/task/{task_type}", json=body)
    return task


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_tasks_ls_filters_and_pages(cli: Cli) -> None:
    """`tasks ls` takes the API's filters; --limit pages and prints the next token on stderr."""
    tag = uuid.uuid4().hex
    ids = [_create(cli, tag=tag)["task_id"] for _ in range(3)]
    first = cli("tasks", "ls", "--tag", tag, "--status", "pending", "--limit", "2", "--json")
    assert first.returncode == 0, first.stderr
    page = _json_lines(first.stdout)
    assert [t["task_id"] for t in page] == ids[::-1][:2]  # newest first
    token = first.stderr.split("--next-token ", 1)[1].strip()
    rest = cli("tasks", "ls", "--tag", tag, "--limit", "2", "--next-token", token, "--json")
    assert [t["task_id"] for t in _json_lines(rest.stdout)] == [ids[0]]
    assert "next-token" not in rest.stderr
    none = cli("tasks", "ls", "--tag", tag, "--status", "completed", "--json")
    assert (none.returncode, none.stdout) == (0, "")
    table = cli("tasks", "ls", "--tag", tag, "--type", PENDING_TYPE)
    header, *rows = [line for line in table.stdout.splitlines() if "━" not in line]
    assert header.split("┃")[0].strip() == "TASK_ID"
    assert [row.split("│")[0].strip() for row in rows] == ids[::-1]


def test_tasks_ls_passes_the_servers_refusal_on(cli: Cli) -> None:
    """A filter the server refuses is its 400 message on one stderr line."""
    result = cli("tasks", "ls", "--start-time", "yesterday")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: 400: Parameter 'start_time' is not a date or time: 'yesterday'; "
        "use YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS.ffffff' or ISO 8601"
    ]


def test_tasks_show_has_the_timeline_and_callback_attempts(cli: Cli, receiver: Receiver) -> None:
    """`tasks show` prints the fields, the events oldest first and each delivery's attempts."""
    task = _create(cli, "echo", callback_url=receiver.url)
    task_id = task["task_id"]
    wait_for(lambda: cli.api("GET", f"/task/{task_id}")["callback_completed"], what="delivery")
    shown = cli("tasks", "show", task_id, "--json")
    assert shown.returncode == 0, shown.stderr
    (doc,) = _json_lines(shown.stdout)
    assert doc["task_id"] == task_id
    assert [e["action"] for e in doc["events"]] == [
        "created",
        "claimed",
        "completed",
        "callback_delivered",
    ]
    (delivery,) = doc["deliveries"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [200]
    table = cli("tasks", "show", task_id).stdout
    assert "timeline" in table
    assert "callback_delivered" in table
    assert f"to {receiver.url}" in table
    missing = cli("tasks", "show", "0" * 24)
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [f"Error: 404: Task {'0' * 24} not found"]


def test_tasks_cancel_each_id_and_report_the_refused(cli: Cli) -> None:
    """`tasks cancel` cancels every pending id; an unknown id is a stderr line and exit 1."""
    tag = uuid.uuid4().hex
    ids = [_create(cli, tag=tag)["task_id"] for _ in range(2)]
    unknown = "f" * 24
    result = cli("tasks", "cancel", *ids, unknown, "--json")
    assert result.returncode == 1
    assert [(t["task_id"], t["status"]) for t in _json_lines(result.stdout)] == [
        (i, "canceled") for i in ids
    ]
    assert result.stderr.splitlines() == [f"{unknown}: 404: Task {unknown} not found"]
    assert cli.count(tags=tag, status="canceled") == 2
    again = cli("tasks", "cancel", ids[0])
    assert again.returncode == 1
    assert "only pending tasks can be canceled" in again.stderr


def test_tasks_redo_sends_a_completed_task_back(cli: Cli) -> None:
    """`tasks redo` puts a completed task back to pending (and the echo worker completes it)."""
    task_id = _create(cli, "echo")["task_id"]
    wait_for(lambda: cli.api("GET", f"/task/{task_id}")["status"] == "completed", what="completion")
    result = cli("tasks", "redo", task_id, "--reason", "again", "--json")
    assert result.returncode == 0, result.stderr
    assert _json_lines(result.stdout)[0]["status"] == "pending"
    events = cli.api("GET", f"/task/{task_id}/events")["docs"]
    redone = [e for e in events if e["action"] == "redone"]
    assert [e["reason"] for e in redone] == ["again"]


def test_events_tail_shows_the_last_events_and_follows(cli: Cli) -> None:
    """`events tail -n N` prints the last N; --follow prints new ones until Ctrl-C (exit 130)."""
    task_id = _create(cli)["task_id"]
    cli.api("POST", f"/task/{task_id}/setMetadata", json={"k": 1})
    tail = cli("events", "tail", "--task", task_id, "-n", "1", "--json")
    assert tail.returncode == 0, tail.stderr
    assert [e["action"] for e in _json_lines(tail.stdout)] == ["metadata_set"]

    follow = cli.popen(
        "events", "tail", "--task", task_id, "--follow", "--interval", "0.2", "--json"
    )
    try:
        assert follow.stdout is not None
        assert json.loads(follow.stdout.readline())["action"] == "created"
        assert json.loads(follow.stdout.readline())["action"] == "metadata_set"
        cli.api("POST", f"/task/{task_id}/cancel")
        followed = json.loads(follow.stdout.readline())
        assert (followed["action"], followed["to_status"]) == ("canceled", "canceled")
        follow.send_signal(signal.SIGINT)
        _, err = follow.communicate(timeout=20)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait(5)
    assert follow.returncode == 130
    assert "Traceback" not in err


def test_deliveries_ls_resend_and_replay(cli: Cli, receiver: Receiver) -> None:
    """A callback that failed for good is listed by `deliveries ls --failed`; `resend`
    delivers it once the receiver is back; `replay --since` re-queues the later failures."""
    receiver.status = 500
    first = _create(cli, "echo", callback_url=receiver.url)["task_id"]
    failed = wait_for(lambda: _outcomes(cli, "--failed", task=first), what="a failed delivery")
    assert [e["action"] for e in failed] == ["callback_failed"]
    assert failed[0]["details"]["status_code"] == 500

    receiver.status = 200
    resent = cli("deliveries", "resend", first, "--json")
    assert resent.returncode == 0, resent.stderr
    assert _json_lines(resent.stdout)[0]["task_id"] == first
    wait_for(lambda: cli.api("GET", f"/task/{first}")["callback_completed"], what="resend")
    assert [e["action"] for e in _outcomes(cli, task=first)] == [
        "callback_failed",
        "callback_delivered",
    ]

    receiver.status = 500
    since = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    second = _create(cli, "echo", callback_url=receiver.url)["task_id"]
    wait_for(lambda: _outcomes(cli, "--failed", task=second), what="a second failure")
    listed = _outcomes(cli, "--failed", since=since)
    assert {e["task_id"] for e in listed} == {second}
    receiver.status = 200
    replayed = cli("deliveries", "replay", "--since", since)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.strip() == "replayed 1 deliveries"
    wait_for(lambda: cli.api("GET", f"/task/{second}")["callback_completed"], what="replay")


def _outcomes(
    cli: Cli, *flags: str, task: str | None = None, since: str | None = None
) -> list[dict[str, Any]]:
    args = ["deliveries", "ls", *flags, "--json"]
    args += ["--task", task] if task else []
    args += ["--since", since] if since else []
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    return _json_lines(result.stdout)


def test_deliveries_resend_of_a_task_without_callback_is_refused(cli: Cli) -> None:
    """A task with no callback has nothing to resend: one stderr line, exit 1."""
    task_id = _create(cli)["task_id"]
    result = cli("deliveries", "resend", task_id)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{task_id}: no callback to send (no callback_url, or not finished)"
    ]


def test_stats_matches_the_task_lists(cli: Cli) -> None:
    """`stats` counts what GET /v1/tasks counts: depth, each status, the last hour's creations."""
    tag = uuid.uuid4().hex
    task_id = _create(cli, tag=tag)["task_id"]
    cli.api("POST", f"/task/{task_id}/cancel")
    result = cli("stats", "--json")
    assert result.returncode == 0, result.stderr
    (stats,) = _json_lines(result.stdout)
    for status in ("pending", "completed", "canceled", "error"):
        assert stats["tasks"][status] == cli.count(status=status), status
    assert stats["queue_depth"]["tasks_pending"] == stats["tasks"]["pending"]
    assert stats["last_hour"]["created"] == cli.count()
    assert stats["tasks"]["canceled"] >= 1
    table = cli("stats").stdout
    assert "queue depth (pending tasks)" in table
    assert "callbacks failed, last hour" in table


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["tasks", "show", "x"], id="tasks-show"),
        pytest.param(["deliveries", "ls"], id="deliveries-ls"),
        pytest.param(["stats"], id="stats"),
    ],
)
def test_every_command_refuses_a_wrong_key_and_a_missing_server_in_one_line(
    cli: Cli, command: list[str]
) -> None:
    """A wrong key names --key/HOOKLINE_KEY; no server names the URL; exit 1 either way."""
    wrong = cli(*command, "--key", "live_wrong")
    assert wrong.returncode == 1
    assert wrong.stderr.splitlines() == [
        "Error: 401: Invalid or revoked API key; check --key/HOOKLINE_KEY"
    ]
    url = f"http://127.0.0.1:{free_port()}"
    down = cli(*command, "--url", url)
    assert down.returncode == 1
    assert down.stderr.splitlines() == [
        f"Error: cannot reach {url}: connection refused; is hookline running?"
    ]
