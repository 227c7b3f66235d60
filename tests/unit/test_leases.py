"""What a lease holder's outcome changes: a failed attempt, and the dispatcher's settlements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hookline.errors import Conflict, IllegalTransition
from hookline.models import SettleKind, Settlement, TaskStatus
from hookline.store.leases import attempt_failed, settlement_change

NOW = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)


def row(**overrides: Any) -> dict[str, Any]:
    """A pending task row held by the dispatcher `d1`, on its third attempt."""
    return {
        "id": "t1",
        "account_id": 7,
        "environment": "live",
        "status": TaskStatus.PENDING.value,
        "attempts": 3,
        "lease_owner": "d1",
        "lease_key_id": None,
        "callback_url": None,
        "times_redone": 0,
    } | overrides


RELEASED = {"lease_owner": None, "lease_key_id": None, "lease_expires_at": None}


@pytest.mark.parametrize(
    ("error", "retry_at", "run_after", "retry_text"),
    [
        pytest.param("boom", LATER, LATER, LATER.isoformat(), id="due-later"),
        pytest.param("boom", None, None, None, id="due-at-once"),
        pytest.param(None, None, None, None, id="no-error-text"),
    ],
)
def test_attempt_failed(
    error: str | None, retry_at: datetime | None, run_after: datetime | None, retry_text: str | None
) -> None:
    """The lease is dropped, the task waits for retry_at, and the event says when and why."""
    values, event = attempt_failed(row(), actor="w", error=error, retry_at=retry_at, now=NOW)
    assert values == RELEASED | {"run_after": run_after, "error": error, "updated_at": NOW}
    assert "status" not in values
    assert event["action"] == "attempt_failed"
    assert (event["task_id"], event["account_id"], event["environment"]) == ("t1", 7, "live")
    assert (event["actor"], event["at"], event["reason"]) == ("w", NOW, error)
    assert event["details"] == {"attempt": 3, "retry_at": retry_text}
    assert (event["from_status"], event["to_status"]) == (None, None)


@pytest.mark.parametrize(
    ("settlement", "status", "action"),
    [
        pytest.param(
            Settlement(task_id="t1", kind=SettleKind.COMPLETE, response={"a": 1}),
            TaskStatus.COMPLETED,
            "completed",
            id="complete",
        ),
        pytest.param(
            Settlement(task_id="t1", kind=SettleKind.FAIL, error="bad"),
            TaskStatus.ERROR,
            "errored",
            id="fail",
        ),
        pytest.param(
            Settlement(task_id="t1", kind=SettleKind.TRY_LATER, error="flaky", retry_at=LATER),
            None,
            "attempt_failed",
            id="retry-is-a-failed-attempt",
        ),
    ],
)
def test_settlement_change(settlement: Settlement, status: TaskStatus | None, action: str) -> None:
    """Complete and fail move the status through the lifecycle; retry only drops the lease."""
    values, event = settlement_change(row(), "d1", settlement, NOW)
    assert values.get("status") == (status.value if status else None)
    assert event["action"] == action
    assert event["details"]["attempt"] == 3
    assert {k: values[k] for k in RELEASED} == RELEASED


@pytest.mark.parametrize(
    ("stored", "error"),
    [
        pytest.param(None, Conflict, id="row-gone"),
        pytest.param(row(lease_owner="d2"), Conflict, id="another-worker"),
        pytest.param(row(lease_key_id="k1"), Conflict, id="taken-through-the-api"),
        pytest.param(row(status=TaskStatus.CANCELED.value), IllegalTransition, id="canceled"),
    ],
)
def test_settlement_refused(stored: dict[str, Any] | None, error: type[Exception]) -> None:
    """A settlement of a lease the dispatcher lost, or of a task no longer pending, is refused."""
    with pytest.raises(error):
        settlement_change(stored, "d1", Settlement(task_id="t1", kind=SettleKind.COMPLETE), NOW)
