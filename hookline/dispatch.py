"""The dispatcher: claim pending tasks in batches, run their handlers, settle the outcomes.

Claims carry a lease that a heartbeat keeps extending while the handler
runs; if this process dies, the leases expire and another dispatcher claims
the tasks again. Outcomes are settled by updates guarded by the lease worker,
so a task whose lease was lost is never completed twice. The claiming itself
is the shared `ClaimLoop`; the store is seen through `ports.DispatchStore`.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import structlog

from hookline.claimloop import ClaimLoop, LoopSettings
from hookline.errors import Conflict
from hookline.handlers import HandlerSpec
from hookline.metrics import Metrics
from hookline.models import Failed, Outcome, Task
from hookline.ports import DispatchStore
from hookline.retry import decide
from hookline.store.signals import Inline

log = structlog.get_logger("hookline.dispatch")


def worker_name() -> str:
    """This process's name on leases: host, pid and a random suffix (pids get reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


class Dispatcher:
    def __init__(
        self,
        store: DispatchStore,
        handlers: Mapping[str, HandlerSpec],
        *,
        worker: str,
        concurrency: int = 64,
        lease_s: float = 60.0,
        claim_size: int = 50,
        poll_s: float = 1.0,
        idle_poll_s: float | None = None,
        claim_interval_s: float = 0.0,
        drain_s: float = 10.0,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._queue = store.work
        self._handlers = dict(handlers)
        self._metrics = metrics or Metrics()
        self.worker = worker
        self._concurrency = concurrency
        self._lease_s = lease_s
        self._drain_s = drain_s
        self._clock = clock or store.db.clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._loop = ClaimLoop(
            LoopSettings(
                concurrency=concurrency,
                claim_size=claim_size,
                poll_s=poll_s,
                idle_poll_s=idle_poll_s,
                claim_interval_s=claim_interval_s,
            ),
            claim=self._claim,
            work=self._work,
            wait_for_more=store.signals.wait_for_work,
            log=log,
            failed_event="claim_failed",
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then drain: finish in-flight work or release its leases."""
        if not self._handlers:
            log.info("dispatcher_idle", reason="no task type has an automatic handler")
            await stop.wait()
            return
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        log.info(
            "dispatcher_started",
            worker=self.worker,
            types=sorted(self._handlers),
            concurrency=self._concurrency,
            lease_s=self._lease_s,
        )
        try:
            await self._loop.run(stop)
        finally:
            await self._drain()
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            log.info("dispatcher_stopped", worker=self.worker)

    def inline(self) -> dict[str, Inline]:
        """The task types whose handler this dispatcher can run in the create transaction."""
        return {
            task_type: Inline(worker=self.worker, respond=spec.inline)
            for task_type, spec in self._handlers.items()
            if spec.inline is not None
        }

    async def _claim(self, limit: int) -> Sequence[Task]:
        claimed = await self._queue.claim(
            worker=self.worker, lease_s=self._lease_s, limit=limit, types=list(self._handlers)
        )
        self._metrics.tasks_claimed(claimed)
        return claimed

    async def _work(self, task: Task) -> None:
        spec = self._handlers[task.type]
        began = time.perf_counter()
        with structlog.contextvars.bound_contextvars(task_id=task.id, attempt=task.attempts):
            outcome = await self._attempt(spec, task)
            settlement = decide(
                task.id,
                outcome,
                attempt=task.attempts,
                policy=spec.policy,
                now=self._clock(),
                rng=self._rng,
            )
            try:
                settled = await self._queue.settle(self.worker, settlement)
            except Conflict:
                log.warning("lease_lost", outcome=settlement.kind.value)
            except Exception:
                log.exception("settle_failed", outcome=settlement.kind.value)
            else:
                self._metrics.task_settled(settled, run_s=time.perf_counter() - began)
                log.debug("task_settled", outcome=settlement.kind.value)
                if settlement.retry_at is not None:
                    # Nothing announces a retry's time: claim then, not at the next poll.
                    self._loop.wake_in((settlement.retry_at - self._clock()).total_seconds())

    async def _attempt(self, spec: HandlerSpec, task: Task) -> Outcome:
        try:
            async with asyncio.timeout(spec.timeout_s):
                return await spec.handler(task)
        except TimeoutError:
            return Failed(error=f"handler timed out after {spec.timeout_s:g}s", retryable=True)
        except Exception as exc:
            log.exception("handler_crashed", handler=spec.description)
            return Failed(error=f"handler crashed: {type(exc).__name__}: {exc}", retryable=True)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Extend the leases of in-flight tasks well before they expire."""
        interval = self._lease_s / 3
        while True:
            await asyncio.sleep(interval)
            task_ids = [task.id for task in self._loop.inflight]
            if not task_ids:
                continue
            try:
                await self._queue.extend(self.worker, task_ids, lease_s=self._lease_s)
            except Exception:
                log.exception("heartbeat_failed", tasks=len(task_ids))

    async def _drain(self) -> None:
        inflight = self._loop.inflight
        if not inflight:
            return
        log.info("dispatcher_draining", tasks=len(inflight), deadline_s=self._drain_s)
        unfinished = [t.id for t in await self._loop.drain(self._drain_s, cancel=True)]
        if not unfinished:
            return
        try:
            released = await self._queue.release(
                self.worker, unfinished, reason="worker stopped before the task finished"
            )
            log.info("leases_released", tasks=released)
        except Exception:
            log.exception("release_failed", tasks=len(unfinished))
