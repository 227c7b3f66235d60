"""The compiled fast path of body validation never accepts what the full validator refuses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hookline.ingress.contract import CONTRACTS
from hookline.ingress.http import _has_nul
from hookline.ingress.validation import _accepts_fast, _validator

BODIES = {
    f"{method} {path}": contract.body
    for (method, path), contract in CONTRACTS.items()
    if contract.body is not None
}

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["2026-01-31", "2026-01-02T03:04:05.678Z", "http://hooks.example/cb", ""])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _bodies(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    names = sorted(schema.get("properties", {}))
    if not names:
        return _JSON
    keys = st.sampled_from(names) | st.text(max_size=6)
    return st.dictionaries(keys, _JSON, max_size=6) | _JSON


@pytest.mark.parametrize("endpoint", sorted(BODIES))
def test_fast_acceptance_implies_full_acceptance(endpoint: str) -> None:
    """Whatever the compiled schema accepts, the full jsonschema validator accepts too.

    Only for bodies `read_body` lets through: it refuses any NUL in a body, keys
    included, before validation, and the fast path relies on that.
    """
    schema = BODIES[endpoint]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_bodies(schema))
    def check(body: Any) -> None:
        assume(not _has_nul(body))
        if _accepts_fast(schema, body):
            assert _validator(schema).is_valid(body), body

    check()


def test_fast_path_accepts_a_plain_create_body() -> None:
    """A typical create body takes the fast path (so the full validator is not run)."""
    schema = CONTRACTS[("POST", "/v1/task/{key}")].body
    assert schema is not None
    body = {"text": "hi", "callback_url": "http://hooks.example/cb", "unique_id": "u-1"}
    assert _accepts_fast(schema, body)
    assert not _accepts_fast(schema, {"priority": True})
