"""The task state machine, over Scale's public statuses. Pure: no I/O, `now` is passed in.

    pending ──complete──► completed ──redo──► pending   (times_redone + 1)
    pending ──fail──────► error     ──retry─► pending
    pending ──cancel────► canceled                      (final)

Each transition says what changes on the task, which event records it, and
whether a callback is due. Anything else raises `IllegalTransition`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookline.errors import IllegalTransition
from hookline.models import JSON, TaskStatus


class Action(enum.StrEnum):
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"
    REDO = "redo"
    RETRY = "retry"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    from_status: TaskStatus
    to_status: TaskStatus
    event: str
    """The audit-trail action: completed, errored, canceled, redone, retried."""
    changes: Mapping[str, Any]
    """Task fields to set besides `status` and `updated_at`."""
    callback_due: bool


_RELEASE = {"lease_owner": None, "lease_key_id": None, "lease_expires_at": None, "run_after": None}

_ALLOWED: dict[tuple[TaskStatus, Action], tuple[TaskStatus, str]] = {
    (TaskStatus.PENDING, Action.COMPLETE): (TaskStatus.COMPLETED, "completed"),
    (TaskStatus.PENDING, Action.FAIL): (TaskStatus.ERROR, "errored"),
    (TaskStatus.PENDING, Action.CANCEL): (TaskStatus.CANCELED, "canceled"),
    (TaskStatus.COMPLETED, Action.REDO): (TaskStatus.PENDING, "redone"),
    (TaskStatus.ERROR, Action.RETRY): (TaskStatus.PENDING, "retried"),
}


def allowed_from(action: Action) -> TaskStatus:
    """The one status an action applies to."""
    return next(status for (status, act) in _ALLOWED if act is action)


def check_auditable(status: TaskStatus, task_id: str) -> None:
    """A review applies to a completed task only.

    Raises:
        IllegalTransition: the task is not completed.
    """
    if status is not TaskStatus.COMPLETED:
        raise IllegalTransition(
            f"Task {task_id} cannot be audited: it is {status.value}; "
            "only completed tasks can be audited"
        )


def transition(
    status: TaskStatus,
    action: Action,
    *,
    now: datetime,
    has_callback: bool = False,
    times_redone: int = 0,
    response: JSON | None = None,
    error: str | None = None,
) -> Transition:
    """What `action` does to a task in `status`.

    Raises:
        IllegalTransition: the action does not apply to a task in this status.
    """
    found = _ALLOWED.get((status, action))
    if found is None:
        raise IllegalTransition(
            f"Cannot {action.value} a task that is {status.value}; "
            f"{action.value} applies to {allowed_from(action).value} tasks"
        )
    to_status, event = found
    changes: dict[str, Any]
    if action is Action.COMPLETE:
        changes = {"response": response, "error": None, "completed_at": now, **_RELEASE}
    elif action is Action.FAIL:
        changes = {"error": error or "failed", **_RELEASE}
    elif action is Action.CANCEL:
        changes = dict(_RELEASE)
    elif action is Action.REDO:
        changes = {
            "times_redone": times_redone + 1,
            "response": None,
            "completed_at": None,
            "callback_completed": False,
            "attempts": 0,
            **_RELEASE,
        }
    else:  # RETRY
        changes = {"error": None, "attempts": 0, "callback_completed": False, **_RELEASE}
    return Transition(
        from_status=status,
        to_status=to_status,
        event=event,
        changes=changes,
        callback_due=has_callback and action in (Action.COMPLETE, Action.FAIL),
    )
