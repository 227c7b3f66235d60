"""Handlers the end-to-end tests load into real worker processes."""

from __future__ import annotations

import asyncio
import os
from typing import Any


async def slowish(task: dict[str, Any]) -> dict[str, Any]:
    """Takes a while, so that a killed worker dies holding leases."""
    await asyncio.sleep(0.3)
    return {"done": task["task_id"], "pid": os.getpid()}
