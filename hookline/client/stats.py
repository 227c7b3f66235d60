"""Pure parts of `hookline stats`: which list queries it asks and how their answers add up.

The API has no statistics endpoint; `GET /v1/tasks?limit=1` answers a `total`
for any filter, so a depth or an hourly count costs one indexed count each.
Failed callbacks are counted from the audit trail (`callback_failed` events),
a page of 100 at a time up to `MAX_EVENT_PAGES` pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hookline.client.http import Params
from hookline.models import TaskStatus

WINDOW = timedelta(hours=1)
MAX_EVENT_PAGES = 10
EVENT_PAGE = 100


def count_query(*pairs: tuple[str, str]) -> Params:
    """A task list query that only wants the `total`."""
    return (*pairs, ("limit", "1"), ("limited_response", "true"))


def task_queries(now: datetime) -> dict[str, Params]:
    """Each figure's `GET /v1/tasks` query, by name."""
    since = (now - WINDOW).isoformat()
    queries = {f"tasks_{s.value}": count_query(("status", s.value)) for s in TaskStatus}
    queries["created_last_hour"] = count_query(("created_after", since))
    queries["completed_last_hour"] = count_query(
        ("status", TaskStatus.COMPLETED.value), ("completed_after", since)
    )
    return queries


def failed_callbacks_query(now: datetime, next_token: str | None) -> Params:
    """One page of the last hour's callback_failed events."""
    pairs: list[tuple[str, str]] = [
        ("action", "callback_failed"),
        ("since", (now - WINDOW).isoformat()),
        ("limit", str(EVENT_PAGE)),
    ]
    if next_token:
        pairs.append(("next_token", next_token))
    return pairs


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    at: datetime
    totals: dict[str, int]
    callbacks_failed_last_hour: int
    callbacks_failed_capped: bool
    """True when there were more failures than MAX_EVENT_PAGES pages hold."""

    def as_json(self) -> dict[str, Any]:
        hour_s = WINDOW.total_seconds()
        return {
            "at": self.at.isoformat(),
            "queue_depth": {"tasks_pending": self.totals["tasks_pending"]},
            "tasks": {s.value: self.totals[f"tasks_{s.value}"] for s in TaskStatus},
            "last_hour": {
                "created": self.totals["created_last_hour"],
                "completed": self.totals["completed_last_hour"],
                "callbacks_failed": self.callbacks_failed_last_hour,
                "callbacks_failed_capped": self.callbacks_failed_capped,
            },
            "rates_per_s": {
                "created": round(self.totals["created_last_hour"] / hour_s, 3),
                "completed": round(self.totals["completed_last_hour"] / hour_s, 3),
            },
        }

    def rows(self) -> list[dict[str, str]]:
        """`{"figure", "value"}` rows for a table."""
        failed = str(self.callbacks_failed_last_hour)
        if self.callbacks_failed_capped:
            failed = f"≥{failed}"
        per_s = self.as_json()["rates_per_s"]
        rows = [
            ("queue depth (pending tasks)", str(self.totals["tasks_pending"])),
            *((f"tasks {s.value}", str(self.totals[f"tasks_{s.value}"])) for s in TaskStatus),
            ("created, last hour", f"{self.totals['created_last_hour']} ({per_s['created']}/s)"),
            (
                "completed, last hour",
                f"{self.totals['completed_last_hour']} ({per_s['completed']}/s)",
            ),
            ("callbacks failed, last hour", failed),
        ]
        return [{"figure": k, "value": v} for k, v in rows]
