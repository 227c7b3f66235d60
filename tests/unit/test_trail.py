"""The audit-trail action filter knows every action the store writes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import hookline.store
from hookline.ingress.trail import EVENT_ACTIONS
from hookline.lifecycle import Action, allowed_from, transition

STORE = Path(hookline.store.__file__).parent


def written_actions() -> set[str]:
    """The literal actions in the store's `action=...` arguments, and the lifecycle's events."""
    found: set[str] = set()
    for source in STORE.glob("*.py"):
        for first, other in re.findall(
            r'action="([a-z_]+)"(?: if \w+ else "([a-z_]+)")?', source.read_text()
        ):
            found.update(name for name in (first, other) if name)
    now = datetime(2024, 1, 1, tzinfo=UTC)
    found.update(transition(allowed_from(a), a, now=now).event for a in Action)
    return found


def test_every_written_action_is_a_filter_value() -> None:
    """GET /events?action=… accepts each action the store can record, and nothing else."""
    written = written_actions()
    assert "callback_failed" in written  # the scan sees both sides of a conditional
    assert written == EVENT_ACTIONS
