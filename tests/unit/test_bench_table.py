"""The sitting's table: medians per target and load, ratios of hookline to the peers first."""

from __future__ import annotations

from typing import Any

import pytest

from bench.table import median, number, render


def row(target: str, load: str, **fields: Any) -> dict[str, Any]:
    return {"target": target, "load": load, "lost": 0, "duplicate_deliveries": 0} | fields


ROWS = [
    row("sqlite", "saturated", e2e_tps=400.0, submit_tps=600.0, service_peak_pss_mb=80.0),
    row("sqlite", "saturated", e2e_tps=500.0, submit_tps=500.0, service_peak_pss_mb=70.0),
    row("sqlite", "saturated", e2e_tps=450.0, submit_tps=700.0, service_peak_pss_mb=90.0),
    row("sqlite", "rate", lat_p50_ms=20.0, lat_p99_ms=210.0, cpu_ms_per_task=2.0),
    row("peer", "saturated", e2e_tps=150.0, submit_tps=300.0, service_peak_pss_mb=240.0),
    row("peer", "rate", lat_p50_ms=10.0, lat_p99_ms=220.0, cpu_ms_per_task=10.0, lost=2),
    row("reference", "saturated", e2e_tps=1800.0, submit_tps=3000.0, service_peak_pss_mb=36.0),
    row("reference", "rate", lat_p50_ms=2.0, lat_p99_ms=205.0, cpu_ms_per_task=1.0),
]


def cells(table: str, title: str) -> list[str]:
    """The cells of the row whose first cell starts with `title`."""
    for line in table.splitlines():
        parts = [part.strip() for part in line.strip("|").split("|")]
        if parts[0].startswith(title):
            return parts
    raise AssertionError(f"no row {title!r} in\n{table}")


def test_median_of_one_target_and_load() -> None:
    """The median takes only the target's rows of that load that have the field."""
    assert median(ROWS, "sqlite", "saturated", "e2e_tps") == 450.0
    assert median(ROWS, "sqlite", "rate", "e2e_tps") is None
    assert median(ROWS, "scale", "saturated", "e2e_tps") is None


def test_ratios_come_first() -> None:
    """The first columns are hookline's medians over the peer's and the reference's."""
    table = render(ROWS, rate=30)
    header = cells(table, "figure")
    assert header[1:3] == ["serve (SQLite) / peer", "serve (SQLite) / reference"]
    assert header[3:] == ["hookline serve (SQLite)", "procrastinate peer", "in-memory reference"]
    assert cells(table, "e2e callbacks/s")[1:] == ["3.00x", "0.25x", "450", "150", "1,800"]
    assert cells(table, "p50 submit→callback at 30 tasks/s")[1:3] == ["2.00x", "10.00x"]
    assert cells(table, "peak PSS")[1:] == ["0.33x", "2.22x", "80.0", "240", "36.0"]


def test_lost_callbacks_are_counted_per_target() -> None:
    """The last row gives runs and lost/duplicated callbacks for each target."""
    assert cells(render(ROWS, rate=30), "runs")[-3:] == ["4: 0/0", "2: 2/0", "2: 0/0"]


def test_without_peers_only_hookline_columns() -> None:
    """Without peer rows there is no ratio column and no peer column."""
    table = render([r for r in ROWS if r["target"] == "sqlite"] + [row("scale", "rate")], rate=30)
    assert cells(table, "figure")[1:] == [
        "hookline serve (SQLite)",
        "hookline scale (2 api + 2 worker, PostgreSQL)",
    ]
    assert cells(table, "service CPU ms per task at 30")[1:] == ["2.00", "-"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(None, "-", id="none"),
        pytest.param(1987.4, "1,987", id="thousands"),
        pytest.param(113.0, "113", id="hundreds"),
        pytest.param(19.04, "19.0", id="tens"),
        pytest.param(0.344, "0.34", id="below ten"),
    ],
)
def test_number(value: float | None, shown: str) -> None:
    """Figures show about three significant digits."""
    assert number(value) == shown


def test_trickle_rows_only_with_trickle_runs() -> None:
    """The trickle figures (CPU per task and p50 at 1 task/s, idle CPU) come from trickle
    runs; a sitting without them shows no such rows."""
    assert "idle" not in render(ROWS, rate=30)
    trickle = [
        row("sqlite", "trickle", cpu_ms_per_task=4.0, lat_p50_ms=5.0, idle_cpu_pct=0.04),
        row("sqlite", "trickle", cpu_ms_per_task=6.0, lat_p50_ms=7.0, idle_cpu_pct=0.08),
        row("peer", "trickle", cpu_ms_per_task=20.0, lat_p50_ms=10.0, idle_cpu_pct=0.5),
    ]
    table = render(ROWS + trickle, rate=30)
    assert cells(table, "service CPU ms per task at 1 task/s")[1:4] == ["0.25x", "-", "5.00"]
    assert cells(table, "p50 submit→callback at 1 task/s")[3:5] == ["6.00", "10.0"]
    assert cells(table, "service CPU idle, % of a core")[3:5] == ["0.06", "0.50"]
    assert cells(table, "runs")[-3:] == ["6: 0/0", "3: 2/0", "2: 0/0"]
