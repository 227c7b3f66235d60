"""The handler interface and the built-in `echo` handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hookline.models import JSON, Completed, Outcome, Task
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
    inline: Callable[[JSON], JSON] | None = None
    """For a handler that is a pure function of the params (no I/O, microseconds): the
    response for these params. A process that dispatches completes such tasks in the
    transaction that creates them (see `signals.Inline`)."""


def echo_response(params: JSON) -> JSON:
    return {"echo": params}


async def echo(task: Task) -> Outcome:
    """Complete at once with the task's params."""
    return Completed(response=echo_response(task.params))
