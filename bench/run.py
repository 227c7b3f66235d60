"""One sitting, interleaved: hookline's modes, the procrastinate peer and the in-memory reference.

    python -m bench.run [--rounds 3] [--out DIR]      # the full sitting (~7.5 min a round)
    python -m bench.run --short                       # serve (SQLite) only, under 2 minutes

Each round runs every target once saturated (`--n 5000 --c 64`), then every target
once at a low rate (`--n 900 --rate 30`), then every target once at a trickle (its idle
CPU over 10 s after the warm-up, then `--n 20 --rate 1`), each time on a freshly
started deployment:
hookline through `bench/w1.sh` (serve on SQLite, serve on PostgreSQL, scale: 2 api +
2 worker on PostgreSQL), the peers of `../shared/bench/peers` when that folder is there
(they need `/tmp/benchvenv`, made once by `../shared/bench/setup_venv.sh`). Every run's
load comes from this folder's generator (`bench/w1.py`). The raw W1 lines go to
`OUT/runs.jsonl`, the table of medians (ratios first) to stdout and `OUT/table.md`.

Exit status 1 when a run lost or doubled a callback (or accepted a unique_id twice) or
could not start; never because of a timing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bench.table import RATE, SATURATED, TITLES, TRICKLE, render

ROOT = Path(__file__).resolve().parents[1]
# Fixed by the shared peers' scripts.
PEER_PIDS = Path("/tmp/procrastinate_peer.pids")  # noqa: S108
BENCH_VENV = Path("/tmp/benchvenv")  # noqa: S108
HOOKLINE_MODES = {"sqlite": "serve-sqlite", "serve_pg": "serve", "scale": "scale"}


class RunFailed(Exception):
    """A target did not start, or its run printed no W1 line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What one sitting runs."""

    targets: tuple[str, ...]
    rounds: int
    saturated: tuple[str, ...]
    rate: tuple[str, ...]
    trickle: tuple[str, ...]
    """Empty: no trickle runs."""
    rate_per_s: float
    run_timeout_s: float
    out: Path
    peers: Path | None
    pg: str | None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def note(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def hookline_command() -> str:
    beside = Path(sys.executable).parent / "hookline"
    found = str(beside) if beside.exists() else shutil.which("hookline")
    if found is None:
        raise click.ClickException("no `hookline` command: install the project (pip install -e .)")
    return found


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def bounded(
    command: list[str], env: dict[str, str], timeout_s: float
) -> subprocess.CompletedProcess[str]:
    """Run a command in its own process group; past `timeout_s`, stop that whole group."""
    process = subprocess.Popen(  # noqa: S603 - our interpreter or the project's own script
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            stdout, stderr = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        raise RunFailed(f"still running after {timeout_s:g} s; stopped") from None
    except BaseException:  # the runner itself is stopping (SIGTERM, ^C): take the run along
        os.killpg(process.pid, signal.SIGTERM)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def w1_line(completed: subprocess.CompletedProcess[str], log: Path) -> dict[str, Any]:
    """The W1 line a run printed last, or RunFailed naming its log."""
    log.write_text(completed.stderr + completed.stdout)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith("{"):
            parsed: dict[str, Any] = json.loads(line)
            return parsed
    tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
    raise RunFailed(f"exit {completed.returncode}, no W1 line ({log}): {tail}")


def generator(args: list[str], plan: Plan, log: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.w1", *args]
    return w1_line(bounded(command, environment(), plan.run_timeout_s), log)


def run_hookline(target: str, args: list[str], plan: Plan, log: Path) -> dict[str, Any]:
    env = environment() | {
        "HOOKLINE": hookline_command(),
        "PYTHON": sys.executable,
        "BENCH_OUT": "",
        "BENCH_PORT": str(free_port()),
    }
    if plan.pg:
        env["BENCH_PG"] = plan.pg
    command = ["bash", str(ROOT / "bench" / "w1.sh"), HOOKLINE_MODES[target], *args]
    return w1_line(bounded(command, env, plan.run_timeout_s), log)


def run_peer(args: list[str], plan: Plan, log: Path) -> dict[str, Any]:
    assert plan.peers is not None  # noqa: S101 - only planned when the folder is there
    folder = plan.peers / "procrastinate_pipeline"
    if PEER_PIDS.exists():
        raise RunFailed(f"{PEER_PIDS} exists: is a peer running already? ({folder}/stop.sh)")
    with log.with_suffix(".start.log").open("w") as start_log:
        started = subprocess.run(  # noqa: S603 - the peer's own start script
            ["bash", str(folder / "start.sh")],  # noqa: S607
            stdout=start_log,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
    try:
        if started.returncode != 0 or not PEER_PIDS.exists():
            raise RunFailed(f"the procrastinate peer did not start ({start_log.name})")
        base = ["--base", "http://127.0.0.1:8002", "--service-pid-file", str(PEER_PIDS)]
        return generator([*base, *args], plan, log)
    finally:
        subprocess.run(  # noqa: S603 - the peer's own stop script
            ["bash", str(folder / "stop.sh")],  # noqa: S607
            capture_output=True,
            timeout=60,
            check=False,
        )


@contextmanager
def reference_server(plan: Plan, log: Path) -> Iterator[int]:
    """The in-memory reference under uvicorn on :8001, stopped by PID afterwards."""
    assert plan.peers is not None  # noqa: S101 - only planned when the folder is there
    with log.with_suffix(".server.log").open("w") as server_log:
        server = subprocess.Popen(  # noqa: S603 - the bench venv's uvicorn
            [
                str(BENCH_VENV / "bin" / "uvicorn"),
                "app:app",
                "--app-dir",
                str(plan.peers / "inmem_reference"),
                "--host",
                "127.0.0.1",
                "--port",
                "8001",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(100):
            if server.poll() is not None:
                raise RunFailed(f"the in-memory reference exited {server.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", 8001), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RunFailed("the in-memory reference did not listen on :8001")
        yield server.pid
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)


def run_one(target: str, load: str, index: int, plan: Plan) -> dict[str, Any]:
    """Start the target, run W1 once against it, stop it; the W1 line with target and load."""
    label = f"{target}_{load}"
    loads = {SATURATED: plan.saturated, RATE: plan.rate, TRICKLE: plan.trickle}
    args = [*loads[load], "--label", label]
    log = plan.out / "logs" / f"{label}.{index}.log"
    if target in HOOKLINE_MODES:
        line = run_hookline(target, args, plan, log)
    elif target == "peer":
        line = run_peer(args, plan, log)
    else:
        with reference_server(plan, log) as pid:
            line = generator(
                ["--base", "http://127.0.0.1:8001", "--service-pid", str(pid), *args], plan, log
            )
    return {"target": target, "load": load, "round": index, **line}


def bad(line: dict[str, Any]) -> bool:
    """Whether a run lost or doubled a callback, or accepted a unique_id twice."""
    return bool(line["lost"] or line["duplicate_deliveries"] or line["dup_accepted_new_task"])


def sitting(plan: Plan) -> tuple[list[dict[str, Any]], list[str]]:
    """Every round, every load, every target: the W1 lines and what went wrong."""
    lines: list[dict[str, Any]] = []
    failures: list[str] = []
    runs = plan.out / "runs.jsonl"
    for index in range(1, plan.rounds + 1):
        for load in (SATURATED, RATE, TRICKLE) if plan.trickle else (SATURATED, RATE):
            for target in plan.targets:
                note(f"round {index}/{plan.rounds}: {TITLES[target]}, {load}")
                try:
                    line = run_one(target, load, index, plan)
                except (RunFailed, subprocess.TimeoutExpired) as exc:
                    failures.append(f"{target} {load} round {index}: {exc}")
                    note(f"  failed: {exc}")
                    continue
                lines.append(line)
                with runs.open("a") as out:
                    out.write(json.dumps(line) + "\n")
                note(
                    f"  e2e {line['e2e_tps']}/s submit {line['submit_tps']}/s"
                    f" p50 {line['lat_p50_ms']} ms p99 {line['lat_p99_ms']} ms"
                    f" cpu {line['cpu_ms_per_task']} ms/task pss {line['service_peak_pss_mb']} MB"
                    f" lost {line['lost']} dup {line['duplicate_deliveries']}"
                )
                if bad(line):
                    failures.append(
                        f"{target} {load} round {index}: lost {line['lost']},"
                        f" duplicate deliveries {line['duplicate_deliveries']},"
                        f" unique_id accepted twice {line['dup_accepted_new_task']}"
                    )
    return lines, failures


def ensure_bench_venv(peers: Path) -> None:
    """Make /tmp/benchvenv with the shared setup script if it is not there."""
    if (BENCH_VENV / "bin" / "uvicorn").exists():
        return
    setup = peers.parent / "setup_venv.sh"
    note(f"{BENCH_VENV} is missing: running {setup} once")
    subprocess.run(["bash", str(setup)], cwd=ROOT, check=True, timeout=900)  # noqa: S603, S607


@click.command(help=__doc__)
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--short", is_flag=True, help="serve (SQLite) only, a few hundred tasks: ≤ 2 min")
@click.option(
    "--targets",
    default="sqlite,serve_pg,scale,peer,reference",
    show_default=True,
    help="comma-separated subset (peer and reference only with the peers folder)",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option(
    "--peers",
    type=click.Path(file_okay=False, path_type=Path),
    default=ROOT.parent / "shared" / "bench" / "peers",
    envvar="BENCH_PEERS",
    show_default="../shared/bench/peers, or BENCH_PEERS",
)
@click.option("--pg", default=None, help="PostgreSQL server for hookline (w1.sh's BENCH_PG)")
@click.option("--n", "sat_n", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option("--c", "sat_c", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--rate-n", type=click.IntRange(min=1), default=900, show_default=True)
@click.option("--rate", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@click.option(
    "--trickle-n",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="tasks of each trickle run, at 1 task/s after 10 s of idle (0: no trickle runs)",
)
def main(
    rounds: int,
    short: bool,
    targets: str,
    out: Path | None,
    peers: Path,
    pg: str | None,
    sat_n: int,
    sat_c: int,
    rate_n: int,
    rate: float,
    trickle_n: int,
) -> None:
    # SIGTERM unwinds like ^C, so the peer's stop.sh and the reference's stop still run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chosen = tuple(t.strip() for t in targets.split(",") if t.strip())
    unknown = [t for t in chosen if t not in TITLES]
    if unknown:
        raise click.BadParameter(
            f"unknown {unknown}; choose from {list(TITLES)}", param_hint="--targets"
        )
    common: list[str] = []
    idle_s = 10
    if short:
        chosen, rounds = ("sqlite",), 1
        sat_n, sat_c, rate_n, trickle_n, idle_s = 300, 32, 150, 5, 3
        common = ["--warmup", "30", "--cb-timeout", "90", "--grace", "1"]
    has_peers = (peers / "procrastinate_pipeline" / "start.sh").exists()
    if not has_peers and any(t in ("peer", "reference") for t in chosen):
        note(f"{peers} is not there: hookline's modes only, no peer and no reference")
        chosen = tuple(t for t in chosen if t not in ("peer", "reference"))
    if has_peers and any(t in ("peer", "reference") for t in chosen):
        ensure_bench_venv(peers)
    out = out or ROOT / "bench" / "results" / time.strftime("%Y%m%d-%H%M%S")
    (out / "logs").mkdir(parents=True, exist_ok=True)
    plan = Plan(
        targets=chosen,
        rounds=rounds,
        saturated=("--n", str(sat_n), "--c", str(sat_c), *common),
        rate=("--n", str(rate_n), "--rate", str(rate), *common),
        trickle=("--idle-s", str(idle_s), "--n", str(trickle_n), "--rate", "1", *common)
        if trickle_n
        else (),
        rate_per_s=rate,
        run_timeout_s=900,
        out=out,
        peers=peers if has_peers else None,
        pg=pg,
    )
    note(f"sitting: {rounds} round(s) of {', '.join(chosen)}; raw lines in {out / 'runs.jsonl'}")
    lines, failures = sitting(plan)
    table = render(lines, rate=rate)
    heading = (
        f"W1, {time.strftime('%Y-%m-%d %H:%M')}, medians of {rounds} round(s);"
        f" saturated: --n {sat_n} --c {sat_c}; low load: --n {rate_n} --rate {rate:g}"
        + (f"; trickle: --idle-s {idle_s} --n {trickle_n} --rate 1" if trickle_n else "")
    )
    (out / "table.md").write_text(f"{heading}\n\n{table}\n")
    sys.stdout.write(f"{heading}\n\n{table}\n")
    if not has_peers and not short:
        sys.stdout.write(f"\n(hookline only: {peers} is not there)\n")
    for failure in failures:
        note(f"FAILED: {failure}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
