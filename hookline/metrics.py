"""Prometheus metrics of one process: what its API, dispatcher and callback sender did.

Each process exports its own (no multiprocess mode): sum across processes in
PromQL. Every `Metrics` has its own `CollectorRegistry`, so two apps in one
process (tests) never share counters. Labels are bounded: task types past
`metrics.max_types` count as `other`, HTTP routes are templates, attempt
outcomes a fixed set.

The queue depths are read from the database by `refresh_queue_depth` (awaited
by the `/metrics` endpoint before it renders) at most once per `queue_depth_ttl_s`
however often it is scraped; concurrent scrapes share one read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hookline.errors import HooklineError
from hookline.models import Task, TaskStatus

log = structlog.get_logger("hookline.metrics")

OTHER = "other"
"""The label of every task type past `metrics.max_types`."""
UNMATCHED = "unmatched"
"""The route label of a request that matched no route."""

# Seconds: from a few milliseconds (an instant handler) to hours (a person's work).
_WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60)

QueueRead = Callable[[], Awaitable[Mapping[str, int]]]
"""Reads the queue depths, by kind (`tasks`, `deliveries`), from the database."""


def object_id_time(object_id: str) -> datetime | None:
    """When an object id (`ids.new_object_id`: 6 bytes of Unix milliseconds first) was made."""
    try:
        millis = int(object_id[:12], 16)
    except ValueError:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def attempt_outcome(status_code: int | None, error: str | None) -> str:
    """A callback attempt as one of a fixed set: succeeded, http_4xx, http_5xx or the error kind."""
    if error is not None:
        return error
    if status_code is not None and 200 <= status_code < 300:
        return "succeeded"
    if status_code is not None and 400 <= status_code < 500:
        return "http_4xx"
    if status_code is not None and status_code >= 500:
        return "http_5xx"
    return "http_other"


class _QueueDepth(Collector):
    """`hookline_queue_depth{kind}` from the values of the newest read."""

    def __init__(self) -> None:
        self.values: Mapping[str, int] | None = None

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "hookline_queue_depth",
            "Work waiting, by kind: pending tasks, callbacks not yet delivered (read from the "
            "database at most once a second)",
            labels=["kind"],
        )
        for kind, value in sorted((self.values or {}).items()):
            family.add_metric([kind], value)
        yield family


F = TypeVar("F", Counter, Histogram)


class _Children(Generic[F]):
    """A family's children by their label values, each found once: `labels` checks,
    converts and locks on every call, and the pipeline counts a few facts per task.
    (Label values are bounded: types by `max_types`, routes and statuses by the API.)"""

    def __init__(self, family: F) -> None:
        self._family: F = family
        self._found: dict[tuple[str, ...], F] = {}

    def __call__(self, *values: str) -> F:
        child = self._found.get(values)
        if child is None:
            child = self._found[values] = self._family.labels(*values)
        return child


class Metrics:
    """The counters and histograms of one process, with one small method per fact."""

    def __init__(
        self,
        *,
        max_types: int = 50,
        known_types: Iterable[str] = (),
        queue_depth: QueueRead | None = None,
        queue_depth_ttl_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._max_types = max_types
        self._types: set[str] = set()
        for name in known_types:
            self.type_label(name)
        f = _families(self.registry)
        self._created = _Children(f.created)
        self._finished = _Children(f.finished)
        self._wait = f.wait
        self._run = f.run
        self._attempts = _Children(f.attempts)
        self._latency = f.latency
        self._requests = _Children(f.requests)
        self._request_seconds = _Children(f.request_seconds)
        self._queue = _QueueDepth()
        self._queue_read = queue_depth
        if queue_depth is not None:
            self.registry.register(self._queue)
        self._queue_ttl_s = queue_depth_ttl_s
        self._queue_read_at: float | None = None
        self._queue_lock = asyncio.Lock()
        self._clock = clock

    def type_label(self, task_type: str) -> str:
        """The type itself while fewer than `max_types` are named, else `other`."""
        if task_type in self._types:
            return task_type
        if len(self._types) < self._max_types:
            self._types.add(task_type)
            return task_type
        return OTHER

    def task_created(self, task_type: str, environment: str) -> None:
        self._created(self.type_label(task_type), environment).inc()

    def task_finished(self, task_type: str, status: str) -> None:
        self._finished(self.type_label(task_type), status).inc()

    def tasks_claimed(self, claimed: Iterable[Task]) -> None:
        """Claimed tasks: those claimed for the first time count in `hookline_task_wait_seconds`.

        A task claimed again (a lost lease, a retry, a redo) is left out: its wait
        from creation would count its earlier runs.
        """
        for task in claimed:
            if task.attempts == 1 and task.times_redone == 0:
                # A claim sets updated_at to its own time.
                wait_s = (task.updated_at - task.created_at).total_seconds()
                self._wait.observe(max(0.0, wait_s))

    def task_settled(self, task: Task, *, run_s: float) -> None:
        """This process's dispatcher settled a task it claimed `run_s` seconds before."""
        self._run.observe(max(0.0, run_s))
        if task.status is not TaskStatus.PENDING:
            self.task_finished(task.type, task.status.value)

    def callback_attempt(
        self, *, outcome: str, delivery_id: str, delivered_at: datetime | None
    ) -> None:
        """One POST; `delivered_at` when it delivered (`hookline_callback_latency_seconds`)."""
        self._attempts(outcome).inc()
        if delivered_at is None:
            return
        created = object_id_time(delivery_id)
        if created is not None:
            self._latency.observe(max(0.0, (delivered_at - created).total_seconds()))

    def http_request(self, route: str, status: int, seconds: float) -> None:
        self._requests(route, str(status)).inc()
        self._request_seconds(route).observe(seconds)

    async def refresh_queue_depth(self) -> None:
        """Read the queue depths unless the last read (or failed read) is under the TTL old."""
        if self._queue_read is None or self._fresh():
            return
        async with self._queue_lock:
            if self._fresh():
                return  # a concurrent scrape read them meanwhile
            try:
                self._queue.values = dict(await self._queue_read())
            except HooklineError as exc:  # the scrape answers, without the gauge
                self._queue.values = None
                log.warning("queue_depth_unreadable", error=exc.message)
            finally:
                # Set once the read is over: scrapes that came meanwhile waited on the lock.
                self._queue_read_at = self._clock()

    def _fresh(self) -> bool:
        read_at = self._queue_read_at
        return read_at is not None and self._clock() - read_at < self._queue_ttl_s


@dataclass(frozen=True, slots=True)
class _Families:
    created: Counter
    finished: Counter
    wait: Histogram
    run: Histogram
    attempts: Counter
    latency: Histogram
    requests: Counter
    request_seconds: Histogram


def _families(registry: CollectorRegistry) -> _Families:
    """Every counter and histogram of `Metrics`, registered in `registry`."""
    return _Families(
        created=Counter(
            "hookline_tasks_created",
            "Tasks created (duplicates of a unique_id not counted)",
            ["type", "environment"],
            registry=registry,
        ),
        finished=Counter(
            "hookline_tasks_finished",
            "Tasks that reached completed, error or canceled",
            ["type", "status"],
            registry=registry,
        ),
        wait=Histogram(
            "hookline_task_wait_seconds",
            "From a task's creation to its first claim",
            buckets=_WAIT_BUCKETS,
            registry=registry,
        ),
        run=Histogram(
            "hookline_task_run_seconds",
            "From a claim by this process's dispatcher to the settled outcome",
            buckets=_WAIT_BUCKETS,
            registry=registry,
        ),
        attempts=Counter(
            "hookline_callback_attempts",
            "Callback POSTs, by outcome (succeeded, http_4xx, http_5xx, timeout, blocked, ...)",
            ["outcome"],
            registry=registry,
        ),
        latency=Histogram(
            "hookline_callback_latency_seconds",
            "From a task's finishing (its delivery's creation) to the callback's delivery",
            buckets=_WAIT_BUCKETS,
            registry=registry,
        ),
        requests=Counter(
            "hookline_http_requests",
            "HTTP requests answered, by route template and status",
            ["route", "status"],
            registry=registry,
        ),
        request_seconds=Histogram(
            "hookline_http_request_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            buckets=_HTTP_BUCKETS,
            registry=registry,
        ),
    )
