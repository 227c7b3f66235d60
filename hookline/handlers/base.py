"""The handler interface and the built-in `echo` handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hookline.models import Completed, Outcome, Task
from hookline.retry import RetryPolicy

Handler = Callable[[Task], Awaitable[Outcome]]


class PermanentFailure(Exception):
    """Raised by a python handler when trying again cannot help; the task goes to error."""


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    kind: str
    handler: Handler
    timeout_s: float
    policy: RetryPolicy
    description: str


async def echo(task: Task) -> Outcome:
    """Complete at once with the task's params."""
    return Completed(response={"echo": task.params})
