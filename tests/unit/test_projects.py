"""A project's param versions: the next merges over the last."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hookline.projects import first_param_version, next_param_version

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
EARLIER = "2025-12-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("history", "params", "version", "merged"),
    [
        pytest.param([], {"a": 1}, 0, {"a": 1}, id="empty-history-starts-at-0"),
        pytest.param(
            [{"version": 0, "created_at": EARLIER, "params": {"a": 1, "b": 2}}],
            {"b": 3, "c": 4},
            1,
            {"a": 1, "b": 3, "c": 4},
            id="merges-over-last",
        ),
        pytest.param(
            [
                {"version": 0, "created_at": EARLIER, "params": {"a": 1}},
                {"version": 4, "created_at": EARLIER, "params": {"a": 2}},
            ],
            {},
            5,
            {"a": 2},
            id="follows-the-last-not-the-count",
        ),
        pytest.param(
            [{"version": 0, "created_at": EARLIER, "params": {"a": {"x": 1}}}],
            {"a": {"y": 2}},
            1,
            {"a": {"y": 2}},
            id="shallow-merge-replaces-nested",
        ),
    ],
)
def test_next_param_version(
    history: list[dict[str, Any]], params: dict[str, Any], version: int, merged: dict[str, Any]
) -> None:
    """The next version's number and params, stamped with now; the history is not changed."""
    before = [dict(h) for h in history]
    nxt = next_param_version(history, params, now=NOW)
    assert nxt == {"version": version, "created_at": NOW.isoformat(), "params": merged}
    assert history == before


def test_first_param_version() -> None:
    """Version 0 holds the params a project is created with."""
    params = {"k": "v"}
    first = first_param_version(params, now=NOW)
    assert first == {"version": 0, "created_at": NOW.isoformat(), "params": {"k": "v"}}
    assert next_param_version([first], {"k": "w"}, now=NOW)["version"] == 1
