"""Python handlers the dispatcher tests plug in by `module:function`."""

from __future__ import annotations

import asyncio
from typing import Any

from hookline.handlers import PermanentFailure


async def shout(task: dict[str, Any]) -> dict[str, Any]:
    return {"shouted": str(task["params"].get("text", "")).upper(), "task_id": task["task_id"]}


async def refuse(task: dict[str, Any]) -> dict[str, Any]:
    raise PermanentFailure("this input can never work")


async def slow(task: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(30)
    return {}
