"""The runner's verdict: a run fails on lost or doubled callbacks, never on a timing."""

from __future__ import annotations

from typing import Any

import pytest

from bench.run import bad

FINE = {"lost": 0, "duplicate_deliveries": 0, "dup_accepted_new_task": 0}


@pytest.mark.parametrize(
    ("fields", "failed"),
    [
        pytest.param({}, False, id="all delivered once"),
        pytest.param({"lat_p99_ms": 60_000.0, "e2e_tps": 0.5}, False, id="slow is not a failure"),
        pytest.param({"lost": 1}, True, id="lost"),
        pytest.param({"duplicate_deliveries": 2}, True, id="delivered twice"),
        pytest.param({"dup_accepted_new_task": 1}, True, id="unique_id accepted twice"),
    ],
)
def test_bad(fields: dict[str, Any], failed: bool) -> None:
    """Only lost callbacks, duplicate deliveries or a unique_id accepted twice fail a run."""
    assert bad(FINE | fields) is failed
