"""`hookline submit`: create a task per line of a JSONL file, concurrently and resumably.

`concurrency` coroutines share one session and take lines one at a time from
the file, so memory stays flat however long the file is. Ctrl-C (SIGINT) stops
taking new lines; the requests in flight finish, and the summary shows what was
done. A second Ctrl-C abandons the requests in flight too (their lines may or
may not have been created: the unique_id makes a re-run safe either way).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hookline.client.http import ApiClient, ApiError, ClientError, path_of
from hookline.client.lines import Line, Outcome, Summary, outcome_of, parse_line


class Reporter(Protocol):
    def advance(self, summary: Summary) -> None: ...

    def close(self, summary: Summary) -> None: ...


class PlainReporter:
    """A line on `out` every `every_s` seconds, and one at the end."""

    def __init__(self, out: IO[str], total: int, *, every_s: float = 2.0) -> None:
        self._out, self._total, self._every_s = out, total, every_s
        self._next_at = time.monotonic() + every_s

    def advance(self, summary: Summary) -> None:
        now = time.monotonic()
        if now >= self._next_at:
            self._next_at = now + self._every_s
            self._print(summary)

    def close(self, summary: Summary) -> None:
        self._print(summary)

    def _print(self, summary: Summary) -> None:
        print(f"{summary.done}/{self._total} lines: {summary.counts_text()}", file=self._out)
        self._out.flush()


class RichReporter:
    """A rich progress bar on a terminal."""

    def __init__(self, total: int, out: IO[str]) -> None:
        self._progress = Progress(
            TextColumn("submitting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeRemainingColumn(),
            console=Console(file=out),
        )
        self._task = self._progress.add_task("submit", total=total, counts="")
        self._progress.start()

    def advance(self, summary: Summary) -> None:
        self._progress.update(self._task, completed=summary.done, counts=summary.counts_text())

    def close(self, summary: Summary) -> None:
        self.advance(summary)
        self._progress.stop()


def reporter_for(total: int, *, out: IO[str] = sys.stderr) -> Reporter:
    """A progress bar on a terminal, plain lines otherwise."""
    return RichReporter(total, out) if out.isatty() else PlainReporter(out, total)


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """What `hookline submit` was asked to do."""

    task_type: str
    concurrency: int
    callback_url: str | None = None


@dataclass(slots=True)
class Result:
    summary: Summary
    interrupted: bool = False
    fatal: str | None = None
    """Why the run stopped before the end of the file (a wrong key, no server)."""
    elapsed_s: float = 0.0


def numbered(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    return enumerate(lines, start=1)


async def submit(
    client: ApiClient, run: Run, lines: Iterator[tuple[int, bytes]], reporter: Reporter
) -> Result:
    """Create a task for every line until the file ends, Ctrl-C, or a fatal error."""
    result = Result(Summary())
    started = time.monotonic()
    stop = asyncio.Event()
    path = path_of("task", run.task_type)

    async def worker() -> None:
        while not stop.is_set():
            item = next(lines, None)
            if item is None:
                return
            parsed = parse_line(
                item[0], item[1], task_type=run.task_type, callback_url=run.callback_url
            )
            if parsed is None:
                continue
            try:
                outcome = (
                    parsed if isinstance(parsed, Outcome) else await _create(client, path, parsed)
                )
            except ClientError as exc:  # the same for every line: stop at the first
                result.fatal = result.fatal or exc.message
                stop.set()
                return  # this line is not done: a re-run sends it
            result.summary.add(outcome)
            reporter.advance(result.summary)

    workers = [asyncio.create_task(worker()) for _ in range(run.concurrency)]
    try:
        with _on_sigint(stop, workers, result):
            # Exceptions are collected, not raised, so that a second Ctrl-C's
            # cancellations do not abandon the other workers half-way.
            ended = await asyncio.gather(*workers, return_exceptions=True)
    finally:
        result.elapsed_s = time.monotonic() - started
        reporter.close(result.summary)
    for outcome in ended:
        if isinstance(outcome, Exception):  # a bug, not a line's fate: show it
            raise outcome
    return result


async def _create(client: ApiClient, path: str, line: Line) -> Outcome:
    """The outcome of creating `line`; ClientError when no line can succeed (wrong key,
    a key without the submit scope, no server)."""
    answer = await client.call("POST", path, body=line.body)
    if answer.status in (401, 403):
        raise ApiError(answer.status, answer.error)
    return outcome_of(line.number, answer.status, answer.body)


@contextlib.contextmanager
def _on_sigint(
    stop: asyncio.Event, workers: list[asyncio.Task[None]], result: Result
) -> Iterator[None]:
    """First SIGINT: stop taking lines. Second: cancel the requests in flight."""
    loop = asyncio.get_running_loop()

    def interrupted() -> None:
        if result.interrupted:
            for w in workers:
                w.cancel()
        result.interrupted = True
        stop.set()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupted)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
