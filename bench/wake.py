"""What waking up costs on this machine: the CPU a process spends per wake-up that does nothing.

    python -m bench.wake                 # 30, 300 and 3000 wake-ups a second, 5 s each
    python -m bench.wake --rate 30 --hops 2 --seconds 10

An event loop (uvloop where installed, as `hookline serve` runs) sleeps 1/rate s, wakes,
and passes a future `--hops` times to a thread and back (as a SQLite transaction goes
to the writer's thread and back), nothing else. The CPU per wake-up is what any
service pays for each separate event at that rate before it does any work: at low load
every task brings its own events (its request, its callback's answer), and their
cost is this one plus the work's, run cold. Compare the figure at 30/s with the one at
3000/s, where the process never goes idle (uvloop's timers tick in milliseconds, so
there the sleep returns at once and it wakes more often than asked). Bounded:
`--seconds` per rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import threading
import time
from collections.abc import Callable

try:
    import uvloop

    new_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    new_loop = asyncio.new_event_loop


async def measure(rate: float, hops: int, seconds: float) -> dict[str, float]:
    """CPU seconds per wake-up (all threads), and the share of a core, over `seconds`."""
    jobs: queue.SimpleQueue[asyncio.Future[None] | None] = queue.SimpleQueue()
    loop = asyncio.get_running_loop()

    def hop_back() -> None:
        while (future := jobs.get()) is not None:
            loop.call_soon_threadsafe(future.set_result, None)

    thread = threading.Thread(target=hop_back, name="hop", daemon=True)
    thread.start()
    wakes = max(1, int(rate * seconds))
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(wakes):
        await asyncio.sleep(1 / rate)
        for _ in range(hops):
            future = loop.create_future()
            jobs.put(future)
            await future
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    jobs.put(None)
    thread.join()
    return {
        "rate": rate,
        "hops": hops,
        "wakes_per_s": round(wakes / wall, 1),
        "cpu_us_per_wake": round(cpu / wakes * 1e6, 1),
        "core_pct": round(cpu / wall * 100, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, action="append", help="wake-ups a second")
    parser.add_argument("--hops", type=int, default=1, help="thread round trips per wake-up")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each rate runs")
    options = parser.parse_args()
    if options.seconds <= 0 or options.seconds > 600:
        parser.error("--seconds must be above 0 and at most 600")
    for rate in options.rate or [30.0, 300.0, 3000.0]:
        if not 0 < rate <= 100_000:
            parser.error("--rate must be above 0 and at most 100000")
        loop = new_loop()
        try:
            figures = loop.run_until_complete(measure(rate, options.hops, options.seconds))
            print(json.dumps(figures), flush=True)  # noqa: T201
        finally:
            loop.close()


if __name__ == "__main__":
    main()
