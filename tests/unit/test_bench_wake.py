"""bench/wake.py: the cost of a wake-up, measured over a bounded number of them."""

from __future__ import annotations

import subprocess
import sys

from bench.wake import measure


async def test_measures_each_wake_and_its_hops() -> None:
    figures = await measure(rate=200.0, hops=2, seconds=0.1)
    assert figures["rate"] == 200.0
    assert figures["hops"] == 2
    assert figures["wakes_per_s"] > 0
    assert figures["cpu_us_per_wake"] > 0


def test_refuses_an_unbounded_run() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.wake", "--seconds", "0"], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "--seconds must be above 0" in run.stderr
