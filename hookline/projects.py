"""A project's param history: how a new version follows the last. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hookline.models import JSON


def first_param_version(params: Mapping[str, JSON], *, now: datetime) -> dict[str, Any]:
    """Version 0: the params a project is created with."""
    return {"version": 0, "created_at": now.isoformat(), "params": dict(params)}


def next_param_version(
    history: Sequence[Mapping[str, Any]], params: Mapping[str, JSON], *, now: datetime
) -> dict[str, Any]:
    """The version after the last in `history`: its params with `params` merged over them.

    An empty history (none is stored so, but the column allows it) starts at version 0.
    """
    last: Mapping[str, Any] = history[-1] if history else {"version": -1, "params": {}}
    return {
        "version": last["version"] + 1,
        "created_at": now.isoformat(),
        "params": {**last["params"], **params},
    }
