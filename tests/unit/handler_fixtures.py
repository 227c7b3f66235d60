"""Python handler targets that tests load by `tests.unit.handler_fixtures:<name>`."""

from __future__ import annotations

from typing import Any

from hookline.handlers import PermanentFailure


async def answer(task: dict[str, Any]) -> dict[str, Any]:
    """Answer with what the handler was given."""
    return {"seen": task["task_id"], "params": task["params"], "status": task["status"]}


async def give_up(task: dict[str, Any]) -> dict[str, Any]:
    """Refuse the task for good."""
    raise PermanentFailure(f"cannot label {task['task_id']}")


async def give_up_silently(task: dict[str, Any]) -> dict[str, Any]:
    """Refuse the task for good without saying why."""
    raise PermanentFailure


async def crash(task: dict[str, Any]) -> dict[str, Any]:
    """Fail in a way that trying again may fix."""
    raise RuntimeError("model server is warming up")


def not_async(task: dict[str, Any]) -> dict[str, Any]:
    """A plain function, which the python handler refuses."""
    return {}
