"""A wrong-key flood against a fresh `hookline serve`, and what it does to a good client.

    .venv/bin/python bench/flood.py [--limits on,off] [--flood 2000] [--flood-rate 1000]

For each setting of `rate_limits.enabled` this starts `hookline serve` on a new
SQLite file on 127.0.0.1, then a good client (from 127.0.0.2, with a valid
key) reads one task over and over: first alone for `--quiet-s`, then while
2,000 requests with distinct wrong (well-formed, so each is looked up) keys
arrive from 127.0.0.1 at up to `--flood-rate` a second over `--concurrency`
connections (the issue's flood was 2,000 in 1.9 s); `--rounds` times. It
prints one JSON line per setting: the good client's p50 and p95 alone and
during the floods, the floods' status counts and the server's CPU time per
flood request. Everything it starts it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] * 1000, 2)


async def good_client(base: str, key: str, task_id: str, until: asyncio.Event) -> list[float]:
    """Read one task until `until` is set; the latency of each read (all must be 200)."""
    latencies: list[float] = []
    headers = {"Authorization": aiohttp.encode_basic_auth(key, "")}
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0), limit=1)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        while not until.is_set():
            started = time.perf_counter()
            async with session.get(f"{base}/v1/task/{task_id}") as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"the good client got {response.status}")
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.001)
    return latencies


async def flood(base: str, n: int, concurrency: int, rate: float) -> tuple[dict[str, int], float]:
    """N requests with distinct wrong keys from 127.0.0.1; status counts and duration.

    With `rate` > 0 request i is not sent before i / rate seconds (it may be
    later: at most `concurrency` are in flight).
    """
    statuses: dict[str, int] = {}
    sent = 0
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.1", 0), limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_connection() -> None:
            nonlocal sent
            while sent < n:
                sent += 1
                if rate > 0:
                    await asyncio.sleep(started + sent / rate - time.perf_counter())
                wrong = aiohttp.encode_basic_auth(f"live_{secrets.token_hex(22)}", "")
                headers = {"Authorization": wrong}
                async with session.get(f"{base}/v1/tasks", headers=headers) as response:
                    await response.read()
                    if response.status == 429 and int(response.headers["Retry-After"]) < 1:
                        raise RuntimeError("a 429 without a Retry-After of at least 1 s")
                    statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(concurrency)))
    return statuses, time.perf_counter() - started


async def measure(
    base: str, key: str, task_id: str, server_pid: int, args: argparse.Namespace
) -> dict[str, Any]:
    quiet: list[float] = []
    loud: list[float] = []
    statuses: dict[str, int] = {}
    flood_s: list[float] = []
    flood_cpu_s = 0.0
    for _ in range(args.rounds):
        alone_done = asyncio.Event()
        alone = asyncio.create_task(good_client(base, key, task_id, alone_done))
        await asyncio.sleep(args.quiet_s)
        alone_done.set()
        quiet += await alone
        flood_done = asyncio.Event()
        during = asyncio.create_task(good_client(base, key, task_id, flood_done))
        await asyncio.sleep(0.1)
        cpu_before = cpu_s(server_pid)
        counts, seconds = await flood(base, args.flood, args.concurrency, args.flood_rate)
        flood_done.set()
        loud += await during
        flood_cpu_s += cpu_s(server_pid) - cpu_before
        flood_s.append(round(seconds, 2))
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "good_alone": {"n": len(quiet), "p50_ms": quantile(quiet, 0.5), "p95_ms": quantile(quiet, 0.95)},
        "good_during_flood": {
            "n": len(loud),
            "p50_ms": quantile(loud, 0.5),
            "p95_ms": quantile(loud, 0.95),
            "mean_ms": round(statistics.fmean(loud) * 1000, 2),
        },
        "flood": {"n": args.flood, "rounds": args.rounds, "concurrency": args.concurrency,
                  "offered_per_s": args.flood_rate,
                  "seconds": flood_s, "statuses": statuses,
                  "server_cpu_ms_per_request": round(flood_cpu_s * 1000 / (args.flood * args.rounds), 3)},
    }  # fmt: skip


def run_one(limits: str, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="hookline-flood."))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env |= {
        "HOOKLINE_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'hookline.db'}",
        "HOOKLINE_FILES_DIR": str(work / "files"),
        "HOOKLINE_SERVER_PORT": str(port),
        "HOOKLINE_RATE_LIMITS_ENABLED": "true" if limits == "on" else "false",
    }
    hookline = [args.hookline]
    migrate = [*hookline, "migrate"]
    subprocess.run(migrate, env=env, cwd=work, check=True, capture_output=True)  # noqa: S603
    made = subprocess.run(  # noqa: S603
        [*hookline, "keys", "create", "--account", "flood"],
        env=env, cwd=work, check=True, capture_output=True, text=True,
    )  # fmt: skip
    key = made.stdout.strip().splitlines()[-1]
    log = (work / "serve.log").open("wb")
    server = subprocess.Popen(  # noqa: S603
        [*hookline, "serve", "--log-level", "warning"], env=env, cwd=work, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        task_id = asyncio.run(create_task(base, key))
        result = asyncio.run(measure(base, key, task_id, server.pid, args))
    finally:
        server.terminate()
        server.wait(30)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    return {"rate_limits": limits, **result}


async def create_task(base: str, key: str) -> str:
    headers = {"Authorization": aiohttp.encode_basic_auth(key, "")}
    async with aiohttp.ClientSession(headers=headers) as session:
        for _ in range(50):
            try:
                async with session.post(f"{base}/v1/task/echo", json={}) as response:
                    if response.status == 200:
                        return str((await response.json())["task_id"])
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("hookline serve did not accept a task")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", default="on,off", help="rate_limits.enabled settings to run")
    parser.add_argument("--flood", type=int, default=2000, help="wrong-key requests")
    parser.add_argument("--concurrency", type=int, default=32, help="flood connections")
    parser.add_argument(
        "--flood-rate", type=float, default=1000, help="flood requests/s at most (0: no pacing)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="quiet phase + flood, repeated")
    parser.add_argument("--quiet-s", type=float, default=2.0, help="good client alone, seconds")
    parser.add_argument(
        "--hookline", default=shutil.which("hookline") or "hookline", help="the hookline command"
    )
    args = parser.parse_args()
    for limits in args.limits.split(","):
        print(json.dumps(run_one(limits, args)), file=sys.stdout, flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
