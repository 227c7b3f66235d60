"""Pure parts of `hookline.metrics`: label folding, outcomes, times from object ids."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from hookline.ids import new_object_id
from hookline.metrics import OTHER, Metrics, attempt_outcome, object_id_time


def test_types_fold_into_other_past_max_types() -> None:
    """Known types come first; the first new ones keep their names up to max_types."""
    metrics = Metrics(max_types=3, known_types=["echo"])
    assert [metrics.type_label(t) for t in ("a", "b", "c", "a", "echo")] == [
        "a",
        "b",
        OTHER,
        "a",
        "echo",
    ]


def test_zero_max_types_names_none() -> None:
    """max_types = 0 counts every type as other."""
    assert Metrics(max_types=0).type_label("echo") == OTHER


@pytest.mark.parametrize(
    ("status_code", "error", "outcome"),
    [
        pytest.param(200, None, "succeeded", id="2xx"),
        pytest.param(204, None, "succeeded", id="204"),
        pytest.param(404, None, "http_4xx", id="4xx"),
        pytest.param(503, None, "http_5xx", id="5xx"),
        pytest.param(None, "timeout", "timeout", id="timeout"),
        pytest.param(301, "redirect", "redirect", id="redirect"),
        pytest.param(100, None, "http_other", id="1xx"),
    ],
)
def test_attempt_outcomes_are_a_fixed_set(
    status_code: int | None, error: str | None, outcome: str
) -> None:
    """Each attempt is one of a bounded set of outcomes."""
    assert attempt_outcome(status_code, error) == outcome


def test_an_object_id_tells_when_it_was_made() -> None:
    """The first 6 bytes of an object id are its Unix milliseconds."""
    at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert object_id_time(new_object_id(at, os.urandom)) == at
    assert object_id_time("not-hex-at-all-xxxxxxxxx") is None
