"""W1: submit tasks over HTTP, receive their callbacks, print one JSON line of figures.

    python -m bench.w1 --base http://127.0.0.1:8700 --api-key KEY [--n 5000 --c 64 | --rate 30]
        [--service-pid-file PIDS] [--label NAME] [--out FILE]

For any service with `POST {base}/v1/task/{type}` (HTTP basic auth: the key, an empty
password; body `callback_url, instruction, params, unique_id, tags`; 200/201 with
`task_id`, 409 for a unique_id it has seen) that POSTs a callback carrying `task_id`
(or `task.task_id`) and `response` to the callback_url and retries until a 2xx:

1. starts the receiver (`bench/receiver.py`) as a subprocess, so it can use the other
   core; it answers 500 to the first attempt of 10 % of the tasks (sha1(task_id));
2. submits `--warmup` tasks and waits for their callbacks (left out of the figures);
   with `--idle-s S`, then waits `IDLE_SETTLE_S` and measures the service's CPU over S
   seconds in which nothing is sent (`idle_cpu_pct`, % of one core);
3. submits `--n` tasks: `--c` submitters each sending the next one as soon as the last
   is answered (closed loop) or, with `--rate R`, task i sent at t0 + i/R (open loop,
   at most `--c` in flight); every 20th task is sent again right after it is accepted
   and must get 409;
4. waits up to `--cb-timeout` s for every accepted task's first 2xx callback, then
   `--grace` s more for late duplicates;
5. samples PSS, RSS and CPU of the service's process trees every 0.5 s throughout 3-4.

Everything goes to 127.0.0.1; every loop is bounded by a count and a deadline.
Progress goes to stderr; the JSON line to stdout (and appended to `--out`).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import click

from bench.sampler import Sampler
from bench.summary import Received, Submitted, summarize, task_id_of

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class Load:
    """How one submit phase sends: how many, how many at once, at what rate (0: closed)."""

    base: str
    type: str
    api_key: str
    callback_url: str
    c: int
    rate: float = 0.0
    dup_every: int = 0
    request_timeout_s: float = 30.0
    deadline_s: float = 300.0


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


async def submit(load: Load, n: int, prefix: str) -> Submitted:
    """Send n tasks (`unique_id = {prefix}-{i}`) and the duplicates; record what came back."""
    sent_at: dict[str, float] = {}
    statuses: Counter[str] = Counter()
    dup_statuses: Counter[str] = Counter()
    dup_new: list[str] = []
    errors: list[str] = []
    url = f"{load.base}/v1/task/{load.type}"
    headers = {"Authorization": aiohttp.encode_basic_auth(load.api_key, "")}
    connector = aiohttp.TCPConnector(limit=load.c)
    timeout = aiohttp.ClientTimeout(total=load.request_timeout_s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + load.deadline_s
    claimed = 0

    async def post(session: aiohttp.ClientSession, i: int) -> tuple[float, int, Any]:
        body = {
            "callback_url": load.callback_url,
            "instruction": "W1 echo benchmark task",
            "params": {"n": i},
            "unique_id": f"{prefix}-{i}",
            "tags": ["bench"],
        }
        began = time.monotonic()
        async with session.post(url, json=body) as response:
            raw = await response.read()
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = raw[:200]
        return began, response.status, answer

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        try:
            began, status, answer = await post(session, i)
        except (aiohttp.ClientError, TimeoutError) as exc:
            statuses["exception"] += 1
            errors.append(type(exc).__name__)
            return
        statuses[str(status)] += 1
        task_id = task_id_of(answer) if status in (200, 201) else None
        if task_id is None:
            if status in (200, 201):
                statuses["no_task_id"] += 1
            errors.append(f"{status}: {str(answer)[:200]}")
            return
        sent_at[task_id] = began
        if load.dup_every and i % load.dup_every == 0:
            try:
                _, again, answer = await post(session, i)
            except (aiohttp.ClientError, TimeoutError) as exc:
                dup_statuses["exception"] += 1
                errors.append(type(exc).__name__)
                return
            dup_statuses[str(again)] += 1
            other = task_id_of(answer) if again in (200, 201) else None
            if other is not None and other != task_id:
                dup_new.append(other)

    async def submitter(session: aiohttp.ClientSession, t0: float) -> None:
        nonlocal claimed
        while claimed < n and loop.time() < deadline:
            i, claimed = claimed, claimed + 1
            if load.rate > 0:
                await asyncio.sleep(max(0.0, t0 + i / load.rate - loop.time()))
            await one(session, i)

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:
        t_start = time.monotonic()
        t0 = loop.time()
        await asyncio.gather(*(submitter(session, t0) for _ in range(load.c)))
        t_end = time.monotonic()
    return Submitted(
        t_start=t_start,
        t_end=t_end,
        sent_at=sent_at,
        attempted=claimed,
        statuses=dict(statuses),
        dup_statuses=dict(dup_statuses),
        dup_new_task_ids=dup_new,
        errors=errors[:20],
    )


async def fetch_record(session: aiohttp.ClientSession, receiver: str) -> Received:
    async with session.get(f"{receiver}/dump") as response:
        record = await response.json()
    return Received(
        first_ok=record["first_ok"],
        ok_count=record["ok_count"],
        attempts=record["attempts"],
        bad_bodies=record["bad_bodies"],
        without_response=record["without_response"],
    )


async def wait_callbacks(
    receiver: str, expected: set[str], already_ok: int, timeout_s: float, label: str
) -> Received:
    """Poll the receiver until every expected task has a 2xx callback or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    last_note = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        while True:
            async with session.get(f"{receiver}/stats") as response:
                ok_tasks = int((await response.json())["ok_tasks"])
            if ok_tasks >= already_ok + len(expected) or time.monotonic() >= deadline:
                record = await fetch_record(session, receiver)
                missing = sum(1 for tid in expected if tid not in record.first_ok)
                if missing == 0 or time.monotonic() >= deadline:
                    return record
            if time.monotonic() - last_note > 5:
                log(f"[{label}] callbacks {ok_tasks - already_ok}/{len(expected)}")
                last_note = time.monotonic()
            await asyncio.sleep(0.1 if already_ok + len(expected) - ok_tasks < 50 else 0.25)


async def start_receiver(fail_frac: float, max_s: float) -> tuple[asyncio.subprocess.Process, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.receiver",
        "--fail-frac",
        str(fail_frac),
        "--max-s",
        str(max_s),
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None  # noqa: S101 - asked for a pipe above
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
    except TimeoutError:
        line = ""
    if not line.startswith("READY "):
        process.kill()
        await process.wait()
        raise click.ClickException("the callback receiver did not start")
    return process, f"http://127.0.0.1:{int(line.split()[1])}"


IDLE_SETTLE_S = 2.0
"""After the warm-up, how long the idle measurement waits for the service to settle."""


async def idle_cpu(service_pids: list[int], seconds: float) -> float | None:
    """The CPU the service's process trees used over `seconds`, in % of one core
    (processes alive throughout; None without service PIDs)."""
    if not service_pids:
        return None
    sampler = Sampler(service_pids)
    sampler.sample()
    began = time.monotonic()
    await asyncio.sleep(seconds)
    sampler.sample()
    return round(sampler.cpu_s() * 100 / (time.monotonic() - began), 3)


async def run(options: dict[str, Any], service_pids: list[int]) -> dict[str, Any]:
    """One W1 run: warm-up, measured phase, summary."""
    max_s = options["submit_timeout"] * 2 + options["cb_timeout"] * 2 + 120
    receiver_process, receiver = await start_receiver(options["fail_frac"], max_s)
    run_id = options["run"] or uuid.uuid4().hex[:8]
    load = Load(
        base=options["base"].rstrip("/"),
        type=options["type"],
        api_key=options["api_key"],
        callback_url=f"{receiver}/cb",
        c=options["c"],
        request_timeout_s=options["req_timeout"],
        deadline_s=options["submit_timeout"],
    )
    sampler = Sampler(service_pids)
    try:
        warm_ids: frozenset[str] = frozenset()
        if options["warmup"] > 0:
            warm = await submit(load, options["warmup"], f"w1warm-{run_id}")
            warm_ids = frozenset(warm.sent_at)
            await wait_callbacks(
                receiver, set(warm_ids), 0, min(options["cb_timeout"], 60), "warmup"
            )
            log(f"warm-up: {warm.statuses}")
        idle_cpu_pct = None
        if options["idle_s"] > 0:
            await asyncio.sleep(IDLE_SETTLE_S)
            idle_cpu_pct = await idle_cpu(service_pids, options["idle_s"])
            log(f"idle: {idle_cpu_pct} % of a core over {options['idle_s']:g} s")
        async with aiohttp.ClientSession() as session:
            already_ok = len((await fetch_record(session, receiver)).first_ok)
        sampler.start()
        dup_every = round(1 / options["dup_frac"]) if options["dup_frac"] > 0 else 0
        measured = replace(load, rate=options["rate"], dup_every=dup_every)
        submitted = await submit(measured, options["n"], f"w1-{run_id}")
        log(
            f"submitted: {submitted.statuses} duplicates: {submitted.dup_statuses}"
            f" in {submitted.t_end - submitted.t_start:.2f} s"
        )
        received = await wait_callbacks(
            receiver, set(submitted.sent_at), already_ok, options["cb_timeout"], "measured"
        )
        waited_s = time.monotonic() - submitted.t_end
        if options["grace"] > 0:
            await asyncio.sleep(options["grace"])
            async with aiohttp.ClientSession() as session:
                received = await fetch_record(session, receiver)
    finally:
        if sampler.is_alive():
            sampler.stop()
        if receiver_process.returncode is None:
            receiver_process.terminate()
        try:
            await asyncio.wait_for(receiver_process.wait(), 5)
        except TimeoutError:
            receiver_process.kill()
            await receiver_process.wait()
    figures = summarize(
        submitted=submitted,
        received=received,
        sampled=sampler.result(),
        fail_frac=options["fail_frac"],
        warm_ids=warm_ids,
        waited_s=waited_s,
    )
    return {
        "workload": "W1",
        "harness": "hookline/bench",
        "label": options["label"],
        "base": load.base,
        "type": load.type,
        "n": options["n"],
        "c": options["c"],
        "rate": options["rate"],
        "run": run_id,
        "fail_frac": options["fail_frac"],
        "dup_frac": options["dup_frac"],
        **figures,
        "idle_cpu_pct": idle_cpu_pct,
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def loopback(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if urlsplit(value).hostname not in ("127.0.0.1", "localhost"):
        raise click.BadParameter("must point at 127.0.0.1")
    return value


@click.command(help=__doc__)
@click.option("--base", default="http://127.0.0.1:8000", show_default=True, callback=loopback)
@click.option("--type", "type_", default="echo", show_default=True, help="task type")
@click.option("--n", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option("--c", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--rate", type=click.FloatRange(min=0), default=0.0, help="tasks/s (0: closed loop)")
@click.option("--api-key", default="test_key", show_default=True)
@click.option("--run", default=None, help="run id in unique_id (default: random)")
@click.option("--label", default="", help="a name for the run, copied into the line")
@click.option("--dup-frac", type=click.FloatRange(0, 1), default=0.05, show_default=True)
@click.option("--fail-frac", type=click.FloatRange(0, 1), default=0.10, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=100, show_default=True)
@click.option("--req-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@click.option("--submit-timeout", type=click.FloatRange(min=1), default=300.0, show_default=True)
@click.option("--cb-timeout", type=click.FloatRange(min=1), default=180.0, show_default=True)
@click.option("--grace", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option(
    "--idle-s",
    type=click.FloatRange(min=0, max=600),
    default=0.0,
    help="after the warm-up, measure the service's idle CPU over this long (0: not)",
)
@click.option("--service-pid", type=int, multiple=True, help="a service PID (repeatable)")
@click.option("--service-pid-file", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="append the line here")
def main(
    type_: str, service_pid: tuple[int, ...], service_pid_file: str | None, **options: Any
) -> None:
    options["type"] = type_
    pids = list(service_pid)
    if service_pid_file:
        pids += [int(word) for word in Path(service_pid_file).read_text().split()]
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(options, pids))
    else:
        result = uvloop.run(run(options, pids))
    line = json.dumps(result)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    if options["out"]:
        with Path(options["out"]).open("a") as out:
            out.write(line + "\n")


if __name__ == "__main__":
    main()
