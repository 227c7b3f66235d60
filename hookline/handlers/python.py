"""The `python` handler: an async callable named `module:function` or by an entry point.

The callable receives the task as its JSON object (the API's shape) and
returns the response. Raising `PermanentFailure` sends the task to error;
any other exception is a failed attempt that may be retried.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from typing import Any

from hookline.handlers.base import PermanentFailure
from hookline.models import Completed, Failed, Outcome, Task
from hookline.serialize import task_json

ENTRY_POINT_GROUP = "hookline.handlers"

Target = Callable[[dict[str, Any]], Awaitable[Any]]


def load_target(target: str) -> Target:
    """Import `module:function`, or load the entry point of that name.

    Raises:
        ValueError: nothing by that name, or it is not an async function.
    """
    if ":" in target:
        module_name, _, attr = target.partition(":")
        if not module_name or not attr:
            raise ValueError(f"python handler {target!r}: write it as module:function")
        try:
            found: Any = getattr(importlib.import_module(module_name), attr)
        except Exception as exc:
            raise ValueError(f"python handler {target!r} cannot be loaded: {exc!r}") from exc
    else:
        matches = entry_points(group=ENTRY_POINT_GROUP, name=target)
        if not matches:
            raise ValueError(
                f"python handler {target!r}: no module:function and no entry point "
                f"of that name in group {ENTRY_POINT_GROUP}"
            )
        found = next(iter(matches)).load()
    if not inspect.iscoroutinefunction(found):
        raise ValueError(f"python handler {target!r} must be an async function")
    result: Target = found
    return result


class PythonHandler:
    def __init__(self, target: Target) -> None:
        self._target = target

    async def __call__(self, task: Task) -> Outcome:
        try:
            response = await self._target(task_json(task))
        except PermanentFailure as exc:
            return Failed(error=str(exc) or type(exc).__name__, retryable=False)
        except Exception as exc:  # noqa: BLE001 - a plug-in's failure is an attempt's outcome
            return Failed(error=f"{type(exc).__name__}: {exc}", retryable=True)
        return Completed(response=response)
