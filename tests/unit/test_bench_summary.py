"""The benchmark's pure parts: which first attempts fail, percentiles, one run's summary."""

from __future__ import annotations

import pytest

from bench.summary import (
    Received,
    Sampled,
    Submitted,
    percentile,
    should_fail_first,
    summarize,
    task_id_of,
)


def test_fail_selection_matches_the_shared_harness() -> None:
    """sha1(task_id) picks the same tasks as ../shared/bench/w1.py (recorded from it)."""
    ids = [f"task_{i}" for i in range(200)]
    picked = [i for i in ids if should_fail_first(i, 0.10)]
    assert picked == [
        "task_27", "task_53", "task_54", "task_68", "task_69", "task_71", "task_73", "task_94",
        "task_106", "task_115", "task_120", "task_135", "task_158", "task_169", "task_172",
        "task_174", "task_178",
    ]  # fmt: skip
    half = [i for i in ids[:20] if should_fail_first(i, 0.5)]
    assert half == ["task_1", "task_2", "task_4", "task_6", "task_9", "task_10", "task_12",
                    "task_14", "task_15", "task_17", "task_18"]  # fmt: skip


@pytest.mark.parametrize(
    ("fail_frac", "low", "high"),
    [
        pytest.param(0.0, 0, 0, id="never"),
        pytest.param(0.10, 900, 1100, id="a tenth"),
        pytest.param(1.0, 10_000, 10_000, id="always"),
    ],
)
def test_fail_selection_picks_the_fraction(fail_frac: float, low: int, high: int) -> None:
    """About fail_frac of 10,000 task ids fail their first attempt."""
    picked = sum(should_fail_first(f"01J{i:08d}", fail_frac) for i in range(10_000))
    assert low <= picked <= high


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"task_id": "t1"}, "t1", id="top level"),
        pytest.param({"task": {"task_id": "t2"}}, "t2", id="nested"),
        pytest.param({"task_id": 7}, "7", id="number"),
        pytest.param({"status": "completed"}, None, id="absent"),
        pytest.param(["task_id"], None, id="not an object"),
    ],
)
def test_task_id_of(body: object, expected: str | None) -> None:
    """The task id comes from `task_id` or `task.task_id`."""
    assert task_id_of(body) == expected


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        pytest.param([], 0.5, None, id="empty"),
        pytest.param([5.0], 0.99, 5.0, id="one"),
        pytest.param([1.0, 2.0, 3.0, 4.0, 5.0], 0.5, 3.0, id="median"),
        pytest.param([float(i) for i in range(1, 101)], 0.99, 99.0, id="p99 of 100"),
        pytest.param([float(i) for i in range(1, 101)], 1.0, 100.0, id="max"),
        pytest.param([1.0, 2.0], 0.0, 1.0, id="min"),
    ],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    """Nearest rank: index round(q * (n - 1)) of the ascending values."""
    assert percentile(values, q) == expected


def test_summary_counts_lost_doubled_and_latency() -> None:
    """A run with one lost task and one doubled delivery says so, with its latencies."""
    sent_at = {f"t{i}": 10.0 + i * 0.1 for i in range(10)}
    first_ok = {tid: at + 0.05 for tid, at in sent_at.items() if tid != "t9"}
    ok_count = dict.fromkeys(first_ok, 1) | {"t3": 2}
    submitted = Submitted(
        t_start=10.0,
        t_end=11.0,
        sent_at=sent_at,
        attempted=10,
        statuses={"200": 10},
        dup_statuses={"409": 1},
    )
    received = Received(
        first_ok=first_ok,
        ok_count=ok_count,
        attempts=ok_count | {"warm": 1, "stray": 1},
    )
    line = summarize(
        submitted=submitted,
        received=received,
        sampled=Sampled(peak_pss_b=50 * 2**20, cpu_s=0.5),
        fail_frac=0.0,
        warm_ids=frozenset({"warm"}),
    )
    assert line["accepted"] == 10
    assert line["submit_tps"] == 10.0
    assert line["lost"] == 1
    assert line["duplicate_deliveries"] == 1
    assert line["dup_rejected_409"] == 1
    assert line["lat_p50_ms"] == 50.0
    assert line["e2e_tps"] == round(9 / (10.85 - 10.0), 1)
    assert line["unknown_task_callbacks"] == 1
    assert line["cpu_ms_per_task"] == 50.0
    assert line["service_peak_pss_mb"] == 50.0
    assert line["injected_500"] == 0
