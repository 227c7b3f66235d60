from __future__ import annotations

from hookline.aio import Backoff, Pacer
from tests.conftest import FakeClock


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


def test_pacer_lets_the_first_claim_go_at_once() -> None:
    """An idle loop woken by new work claims without delay."""
    assert Pacer(0.01, monotonic=FakeClock().monotonic).wait_s() == 0.0


def test_pacer_spaces_claims_by_the_interval() -> None:
    """Right after a claim the next one waits out the rest of the interval, then goes."""
    clock = FakeClock()
    pacer = Pacer(0.05, monotonic=clock.monotonic)
    pacer.claimed()
    clock.advance(0.02)
    assert abs(pacer.wait_s() - 0.03) < 1e-9
    clock.advance(0.04)
    assert pacer.wait_s() == 0.0
