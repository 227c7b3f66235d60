"""W1's pure parts: which callbacks fail first, percentiles, and one run's summary line.

Nothing here does I/O or reads a clock: the generator (`bench/w1.py`) hands in what it
measured (submit start times, the receiver's record, the sampler's figures) and gets
back the dict it prints as one JSON line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# sha1 → an integer in [0, SCALE): a task fails first when that integer < fail_frac * SCALE.
SCALE = 1_000_000


def should_fail_first(task_id: str, fail_frac: float) -> bool:
    """Whether the receiver answers 500 to this task's first delivery attempt.

    Fixed by sha1(task_id), so every harness and every run fails the same tasks.
    """
    digest = hashlib.sha1(task_id.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % SCALE < fail_frac * SCALE


def task_id_of(body: object) -> str | None:
    """The task id of a submit answer or a callback body (`task_id` or `task.task_id`)."""
    if not isinstance(body, dict):
        return None
    found = body.get("task_id")
    if found is None and isinstance(body.get("task"), dict):
        found = body["task"].get("task_id")
    return None if found is None else str(found)


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The nearest-rank q-quantile (0 ≤ q ≤ 1) of an ascending sequence; None when empty."""
    if not ordered:
        return None
    index = round(q * (len(ordered) - 1))
    return ordered[min(len(ordered) - 1, max(0, index))]


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    """What the submit phase saw: accepted tasks with their submit start times, statuses."""

    t_start: float
    t_end: float
    sent_at: Mapping[str, float]
    attempted: int
    statuses: Mapping[str, int]
    dup_statuses: Mapping[str, int]
    dup_new_task_ids: Sequence[str] = ()
    errors: Sequence[str] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """The receiver's record: first 2xx time, 2xx count and attempts per task."""

    first_ok: Mapping[str, float]
    ok_count: Mapping[str, int]
    attempts: Mapping[str, int]
    bad_bodies: int = 0
    without_response: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Sampled:
    """The service's resource figures over the measured phase (None: not sampled)."""

    peak_pss_b: int | None = None
    peak_rss_b: int | None = None
    cpu_s: float | None = None
    peak_nproc: int | None = None
    breakdown: Mapping[str, Any] = field(default_factory=dict)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e3, 1)


def _mb(size_b: int | None) -> float | None:
    return None if size_b is None else round(size_b / 2**20, 1)


def summarize(
    *,
    submitted: Submitted,
    received: Received,
    sampled: Sampled,
    fail_frac: float,
    warm_ids: frozenset[str] = frozenset(),
    waited_s: float = 0.0,
) -> dict[str, Any]:
    """One run's figures, W1's field names (latency: submit start → first 2xx callback)."""
    expected = submitted.sent_at
    arrived = {tid: received.first_ok[tid] for tid in expected if tid in received.first_ok}
    latencies = sorted(arrived[tid] - expected[tid] for tid in arrived)
    accepted = len(expected)
    submit_s = submitted.t_end - submitted.t_start
    e2e_s = max(arrived.values()) - submitted.t_start if arrived else None
    failed_first = [tid for tid in expected if should_fail_first(tid, fail_frac)]
    dup_sent = sum(submitted.dup_statuses.values())
    cpu_s = sampled.cpu_s
    return {
        "accepted": accepted,
        "submit_statuses": dict(submitted.statuses),
        "submit_s": round(submit_s, 3),
        "submit_tps": round(accepted / submit_s, 1) if submit_s > 0 else None,
        "submit_rps_incl_dups": (
            round((submitted.attempted + dup_sent) / submit_s, 1) if submit_s > 0 else None
        ),
        "dup_sent": dup_sent,
        "dup_statuses": dict(submitted.dup_statuses),
        "dup_rejected_409": submitted.dup_statuses.get("409", 0),
        "dup_accepted_new_task": len(submitted.dup_new_task_ids),
        "e2e_s": round(e2e_s, 3) if e2e_s else None,
        "e2e_tps": round(len(arrived) / e2e_s, 1) if e2e_s else None,
        "lat_p50_ms": _ms(percentile(latencies, 0.50)),
        "lat_p95_ms": _ms(percentile(latencies, 0.95)),
        "lat_p99_ms": _ms(percentile(latencies, 0.99)),
        "lat_max_ms": _ms(latencies[-1] if latencies else None),
        "callbacks_ok": len(arrived),
        "lost": accepted - len(arrived),
        "duplicate_deliveries": sum(max(0, received.ok_count.get(t, 0) - 1) for t in expected),
        "injected_500": len(failed_first),
        "injected_then_ok": sum(1 for tid in failed_first if tid in arrived),
        "delivery_attempts": sum(received.attempts.get(tid, 0) for tid in expected),
        "unknown_task_callbacks": sum(
            1 for tid in received.attempts if tid not in expected and tid not in warm_ids
        ),
        "bad_callback_bodies": received.bad_bodies,
        "callbacks_without_response": received.without_response,
        "wait_after_submit_s": round(waited_s, 3),
        "service_peak_pss_mb": _mb(sampled.peak_pss_b),
        "service_peak_rss_mb": _mb(sampled.peak_rss_b),
        "service_peak_nproc": sampled.peak_nproc,
        "service_cpu_s": None if cpu_s is None else round(cpu_s, 2),
        "cpu_ms_per_task": round(cpu_s * 1e3 / accepted, 2) if cpu_s and accepted else None,
        "service_breakdown": dict(sampled.breakdown) or None,
        "errors_sample": list(submitted.errors[:5]),
    }
