"""The task state machine: every (status, action) pair, its changes, event and callback."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from hookline.errors import Conflict, IllegalTransition
from hookline.lifecycle import Action, allowed_from, check_auditable, transition
from hookline.models import TaskStatus

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
RESPONSE = {"category": "cat"}
ERROR = "worker answered 400: bad params"
TIMES_REDONE = 2
RELEASED = {"lease_owner": None, "lease_key_id": None, "lease_expires_at": None, "run_after": None}

PENDING = TaskStatus.PENDING
COMPLETED = TaskStatus.COMPLETED
ERRORED = TaskStatus.ERROR
CANCELED = TaskStatus.CANCELED


@dataclass(frozen=True)
class Legal:
    to_status: TaskStatus
    event: str
    changes: dict[str, Any]


ILLEGAL = None

PAIRS = [
    pytest.param(
        PENDING,
        Action.COMPLETE,
        Legal(
            COMPLETED,
            "completed",
            {"response": RESPONSE, "error": None, "completed_at": NOW, **RELEASED},
        ),
        id="pending-complete",
    ),
    pytest.param(
        PENDING,
        Action.FAIL,
        Legal(ERRORED, "errored", {"error": ERROR, **RELEASED}),
        id="pending-fail",
    ),
    pytest.param(
        PENDING,
        Action.CANCEL,
        Legal(CANCELED, "canceled", dict(RELEASED)),
        id="pending-cancel",
    ),
    pytest.param(PENDING, Action.REDO, ILLEGAL, id="pending-redo"),
    pytest.param(PENDING, Action.RETRY, ILLEGAL, id="pending-retry"),
    pytest.param(COMPLETED, Action.COMPLETE, ILLEGAL, id="completed-complete"),
    pytest.param(COMPLETED, Action.FAIL, ILLEGAL, id="completed-fail"),
    pytest.param(COMPLETED, Action.CANCEL, ILLEGAL, id="completed-cancel"),
    pytest.param(
        COMPLETED,
        Action.REDO,
        Legal(
            PENDING,
            "redone",
            {
                "times_redone": TIMES_REDONE + 1,
                "response": None,
                "completed_at": None,
                "callback_completed": False,
                "attempts": 0,
                **RELEASED,
            },
        ),
        id="completed-redo",
    ),
    pytest.param(COMPLETED, Action.RETRY, ILLEGAL, id="completed-retry"),
    pytest.param(ERRORED, Action.COMPLETE, ILLEGAL, id="error-complete"),
    pytest.param(ERRORED, Action.FAIL, ILLEGAL, id="error-fail"),
    pytest.param(ERRORED, Action.CANCEL, ILLEGAL, id="error-cancel"),
    pytest.param(ERRORED, Action.REDO, ILLEGAL, id="error-redo"),
    pytest.param(
        ERRORED,
        Action.RETRY,
        Legal(
            PENDING,
            "retried",
            {"error": None, "attempts": 0, "callback_completed": False, **RELEASED},
        ),
        id="error-retry",
    ),
    pytest.param(CANCELED, Action.COMPLETE, ILLEGAL, id="canceled-complete"),
    pytest.param(CANCELED, Action.FAIL, ILLEGAL, id="canceled-fail"),
    pytest.param(CANCELED, Action.CANCEL, ILLEGAL, id="canceled-cancel"),
    pytest.param(CANCELED, Action.REDO, ILLEGAL, id="canceled-redo"),
    pytest.param(CANCELED, Action.RETRY, ILLEGAL, id="canceled-retry"),
]

LEGAL_PAIRS = [p for p in PAIRS if p.values[2] is not ILLEGAL]
ILLEGAL_PAIRS = [p for p in PAIRS if p.values[2] is ILLEGAL]


def _apply(status: TaskStatus, action: Action, *, has_callback: bool = False) -> Any:
    return transition(
        status,
        action,
        now=NOW,
        has_callback=has_callback,
        times_redone=TIMES_REDONE,
        response=RESPONSE,
        error=ERROR,
    )


def test_table_covers_every_status_and_action() -> None:
    """The table holds each (status, action) pair exactly once."""
    pairs = [(p.values[0], p.values[1]) for p in PAIRS]

    assert sorted(pairs) == sorted(itertools.product(TaskStatus, Action))
    assert len(set(pairs)) == len(TaskStatus) * len(Action) == 20


@pytest.mark.parametrize(("status", "action", "expected"), PAIRS)
def test_every_status_action_pair(
    status: TaskStatus, action: Action, expected: Legal | None
) -> None:
    """A legal pair gives its target status, event and changes; an illegal one raises."""
    if expected is None:
        with pytest.raises(IllegalTransition) as raised:
            _apply(status, action)
        message = raised.value.message
        assert re.search(rf"\b{action.value}\b", message)
        assert re.search(rf"\b{status.value}\b", message)
        return

    result = _apply(status, action)

    assert result.from_status is status
    assert result.to_status is expected.to_status
    assert result.event == expected.event
    assert dict(result.changes) == expected.changes


@pytest.mark.parametrize(("status", "action", "expected"), ILLEGAL_PAIRS)
def test_illegal_transition_message_says_where_the_action_applies(
    status: TaskStatus, action: Action, expected: None
) -> None:
    """The error message names the status the action does apply to."""
    with pytest.raises(IllegalTransition, match=f"applies to {allowed_from(action).value} tasks"):
        _apply(status, action)


def test_illegal_transition_is_a_conflict() -> None:
    """IllegalTransition sits under Conflict, so the API answers it as a 409."""
    with pytest.raises(Conflict):
        _apply(CANCELED, Action.REDO)


@pytest.mark.parametrize(
    ("action", "status"),
    [
        pytest.param(Action.COMPLETE, PENDING, id="complete"),
        pytest.param(Action.FAIL, PENDING, id="fail"),
        pytest.param(Action.CANCEL, PENDING, id="cancel"),
        pytest.param(Action.REDO, COMPLETED, id="redo"),
        pytest.param(Action.RETRY, ERRORED, id="retry"),
    ],
)
def test_allowed_from_names_the_one_status_an_action_applies_to(
    action: Action, status: TaskStatus
) -> None:
    """allowed_from gives the only status from which an action is legal."""
    assert allowed_from(action) is status


@pytest.mark.parametrize("action", [pytest.param(a, id=a.value) for a in Action])
def test_canceled_is_final(action: Action) -> None:
    """No action moves a canceled task."""
    with pytest.raises(IllegalTransition, match="canceled"):
        _apply(CANCELED, action)


@pytest.mark.parametrize(("status", "action", "expected"), LEGAL_PAIRS)
@pytest.mark.parametrize(
    "has_callback", [pytest.param(True, id="callback"), pytest.param(False, id="no-callback")]
)
def test_callback_due_only_on_complete_or_fail_with_a_callback(
    status: TaskStatus, action: Action, expected: Legal, has_callback: bool
) -> None:
    """A callback is due only when a task with a callback completes or fails."""
    result = _apply(status, action, has_callback=has_callback)

    assert result.callback_due is (has_callback and action in (Action.COMPLETE, Action.FAIL))


def test_callback_is_not_due_by_default() -> None:
    """Without has_callback, completing a task does not make a callback due."""
    result = transition(PENDING, Action.COMPLETE, now=NOW, response=RESPONSE)

    assert result.callback_due is False


def test_fail_without_an_error_records_a_default_reason() -> None:
    """Failing with no error message stores "failed" rather than nothing."""
    result = transition(PENDING, Action.FAIL, now=NOW)

    assert result.changes["error"] == "failed"


def test_redo_counts_from_the_given_times_redone() -> None:
    """Each redo adds one to the times_redone it is given."""
    first = transition(COMPLETED, Action.REDO, now=NOW)
    later = transition(COMPLETED, Action.REDO, now=NOW, times_redone=7)

    assert first.changes["times_redone"] == 1
    assert later.changes["times_redone"] == 8


@pytest.mark.parametrize(("status", "action", "expected"), LEGAL_PAIRS)
def test_changes_leave_status_and_updated_at_to_the_caller(
    status: TaskStatus, action: Action, expected: Legal
) -> None:
    """Changes never carry status or updated_at, which the store sets itself."""
    result = _apply(status, action)

    assert "status" not in result.changes
    assert "updated_at" not in result.changes


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        pytest.param(TaskStatus.COMPLETED, True, id="completed"),
        pytest.param(TaskStatus.PENDING, False, id="pending"),
        pytest.param(TaskStatus.ERROR, False, id="error"),
        pytest.param(TaskStatus.CANCELED, False, id="canceled"),
    ],
)
def test_check_auditable(status: TaskStatus, allowed: bool) -> None:
    """Only a completed task can be reviewed; the refusal names the task and its status."""
    if allowed:
        check_auditable(status, "t1")
        return
    with pytest.raises(IllegalTransition, match=f"Task t1 cannot be audited: it is {status.value}"):
        check_auditable(status, "t1")
