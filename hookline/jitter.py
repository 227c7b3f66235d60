"""The one jitter: delays are moved by up to ±20%, so that retries of many tasks or
callbacks scheduled together do not arrive together. Pure: `rng` is passed in."""

from __future__ import annotations

import random

JITTER = 0.2
"""Each delay is moved by up to ±20%."""


def jittered(delay_s: float, rng: random.Random) -> float:
    """`delay_s` moved by a uniform factor within ±`JITTER`."""
    return delay_s * (1 + rng.uniform(-JITTER, JITTER))
