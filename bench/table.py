"""The sitting's table: medians of W1 lines per target and load, ratios first (pure).

A row of `runs.jsonl` is one W1 line with the runner's `target` and `load` added.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SATURATED, RATE, TRICKLE = "saturated", "rate", "trickle"
NONE = "-"
TIMES = "x"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    key: str
    title: str


TARGETS = (
    Target(key="sqlite", title="hookline serve (SQLite)"),
    Target(key="peer", title="procrastinate peer"),
    Target(key="reference", title="in-memory reference"),
    Target(key="serve_pg", title="hookline serve (PostgreSQL)"),
    Target(key="scale", title="hookline scale (2 api + 2 worker, PostgreSQL)"),
)
TITLES = {target.key: target.title for target in TARGETS}


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    title: str
    load: str
    field: str
    higher_is_better: bool


def figures(rate: float, trickle: float = 1.0) -> tuple[Figure, ...]:
    at = f"at {rate:g} tasks/s"
    slow = f"at {trickle:g} task{'' if trickle == 1 else 's'}/s"
    return (
        Figure(title="e2e callbacks/s, saturated", load=SATURATED, field="e2e_tps", higher_is_better=True),
        Figure(title="submit/s, saturated", load=SATURATED, field="submit_tps", higher_is_better=True),
        Figure(title="service CPU ms per task, saturated", load=SATURATED, field="cpu_ms_per_task", higher_is_better=False),
        Figure(title=f"service CPU ms per task {at}", load=RATE, field="cpu_ms_per_task", higher_is_better=False),
        Figure(title=f"p50 submit→callback {at}, ms", load=RATE, field="lat_p50_ms", higher_is_better=False),
        Figure(title=f"p99 submit→callback {at}, ms", load=RATE, field="lat_p99_ms", higher_is_better=False),
        Figure(title=f"service CPU ms per task {slow}", load=TRICKLE, field="cpu_ms_per_task", higher_is_better=False),
        Figure(title=f"p50 submit→callback {slow}, ms", load=TRICKLE, field="lat_p50_ms", higher_is_better=False),
        Figure(title="service CPU idle, % of a core", load=TRICKLE, field="idle_cpu_pct", higher_is_better=False),
        Figure(title="peak PSS, saturated, MB", load=SATURATED, field="service_peak_pss_mb", higher_is_better=False),
    )  # fmt: skip


def median(rows: Iterable[Mapping[str, Any]], target: str, load: str, field: str) -> float | None:
    """The median of `field` over the rows of one target and load (None: no such value)."""
    values = [
        float(row[field])
        for row in rows
        if row.get("target") == target and row.get("load") == load and row.get(field) is not None
    ]
    return statistics.median(values) if values else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def number(value: float | None) -> str:
    """A figure as a table shows it: 3 significant digits or so, thousands separated."""
    if value is None:
        return NONE
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def times(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}{TIMES}"


def correctness(rows: Sequence[Mapping[str, Any]], target: str) -> str:
    """`runs: lost/duplicated` summed over a target's runs."""
    mine = [row for row in rows if row.get("target") == target]
    lost = sum(int(row.get("lost") or 0) for row in mine)
    doubled = sum(
        int(row.get("duplicate_deliveries") or 0) + int(row.get("dup_accepted_new_task") or 0)
        for row in mine
    )
    return f"{len(mine)}: {lost}/{doubled}"


def render(
    rows: Sequence[Mapping[str, Any]], *, rate: float, trickle: float = 1.0, base: str = "sqlite"
) -> str:
    """The markdown table: ratios of `base` to the peer and the reference, then medians.
    A figure of a load that no row has (a sitting without trickle runs) is left out."""
    present = [t.key for t in TARGETS if any(row.get("target") == t.key for row in rows)]
    versus = [key for key in ("peer", "reference") if key in present and key != base]
    header = [
        "figure",
        *(f"{TITLES[base].removeprefix('hookline ')} / {key}" for key in versus),
        *(TITLES[key] for key in present),
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    loads = {row.get("load") for row in rows}
    for figure in figures(rate, trickle):
        if figure.load not in loads:
            continue
        values = {key: median(rows, key, figure.load, figure.field) for key in present}
        arrow = "↑" if figure.higher_is_better else "↓"
        cells = [
            f"{figure.title} ({arrow})",
            *(times(ratio(values.get(base), values[key])) for key in versus),
            *(number(values[key]) for key in present),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(
        "| runs: lost/duplicated callbacks |"
        + " |" * len(versus)
        + "".join(f" {correctness(rows, key)} |" for key in present)
    )
    return "\n".join(lines)
