"""Slowloris against a running hookline: N connections trickle header bytes; a good
client measures its latency meanwhile.

    python bench/slowloris.py http://127.0.0.1:8000 [--n 200] [--gap-s 5] [--run-s 60]

Each slow connection sends a request line and then one header byte every --gap-s
seconds. Prints one JSON line: how long the slow connections stayed open (the server
closed them, or they were still open at the end) and the good client's latency of
GET /healthz, one request every 0.2 s over a kept-alive connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlsplit

import httpx


async def slow_connection(host: str, port: int, gap_s: float, run_s: float) -> float:
    """Seconds until the server hung up (run_s if it never did)."""
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return 0.0
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        await writer.drain()
        while time.monotonic() - started < run_s:
            writer.write(b"X")
            await writer.drain()
            try:
                async with asyncio.timeout(gap_s):
                    if not await reader.read(65536):
                        break  # EOF: the server closed it
            except TimeoutError:
                continue
            else:
                break  # an answer (the 408): the server is closing
    except ConnectionError:
        pass
    finally:
        writer.close()
    return min(time.monotonic() - started, run_s)


async def good_client(url: str, run_s: float) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        until = time.monotonic() + run_s
        while time.monotonic() < until:
            started = time.monotonic()
            response = await client.get("/healthz")
            response.raise_for_status()
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.2)
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--gap-s", type=float, default=5.0)
    parser.add_argument("--run-s", type=float, default=60.0)
    args = parser.parse_args()
    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    slow = [
        asyncio.create_task(slow_connection(host, port, args.gap_s, args.run_s))
        for _ in range(args.n)
    ]
    latencies = await good_client(args.url, args.run_s)
    open_s = sorted(await asyncio.gather(*slow))
    ms = sorted(x * 1000 for x in latencies)
    sys.stdout.write(
        json.dumps(
            {
                "slow_connections": args.n,
                "gap_s": args.gap_s,
                "run_s": args.run_s,
                "open_s_min": round(open_s[0], 2),
                "open_s_median": round(statistics.median(open_s), 2),
                "open_s_max": round(open_s[-1], 2),
                "still_open_at_end": sum(1 for s in open_s if s >= args.run_s),
                "good_requests": len(ms),
                "good_ms_p50": round(statistics.median(ms), 1),
                "good_ms_p99": round(ms[int(len(ms) * 0.99) - 1], 1),
                "good_ms_max": round(ms[-1], 1),
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    asyncio.run(main())
