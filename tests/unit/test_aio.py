from __future__ import annotations

from hookline.aio import Backoff


def test_backoff_doubles_caps_and_resets() -> None:
    """Delays double per failure up to the cap, and start over after a success."""
    backoff = Backoff(base_s=0.5, max_s=4.0)
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_backoff_survives_many_failures() -> None:
    """A long outage keeps giving the capped delay rather than overflowing."""
    backoff = Backoff()
    delays = [backoff.next_delay() for _ in range(10_000)]
    assert delays[-1] == 30.0
