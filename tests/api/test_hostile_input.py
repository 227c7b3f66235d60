"""Hostile input through the in-process API on both backends: 400s, never a 500.

Hypothesis feeds NUL, huge integers and far times into every path parameter,
filter and integer the API takes; a 500 that slipped through would also be
logged, and its log must not quote the statement's parameters.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from hookline.config import load_settings
from hookline.ingress import create_app
from hookline.store import open_store
from tests.api.support import error_of
from tests.conftest import PG_URL, asgi_client, create_database, drop_database

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
with_nul = st.tuples(st.text(max_size=12), st.text(max_size=12)).map(
    lambda parts: parts[0] + "\x00" + parts[1]
)
PATHS = [
    ("GET", "/v1/task/{}"),
    ("POST", "/v1/task/{}/cancel"),
    ("GET", "/v1/task/{}/events"),
    ("GET", "/v1/task/{}/callbacks"),
    ("GET", "/v1/projects/{}"),
    ("GET", "/v1/batches/{}"),
    ("GET", "/v1/batches/{}/status"),
    ("GET", "/v1/files/{}"),
]
FILTERS = (
    [
        ("/v1/tasks", name)
        for name in ("type", "project", "batch", "unique_id", "tags", "status", "start_time")
    ]
    + [("/v1/events", name) for name in ("task_id", "action", "actor", "project", "since", "until")]
    + [("/v1/audits", name) for name in ("result", "auditor", "project", "since")]
    + [("/v1/batches", name) for name in ("project", "status", "start_time")]
)
TIMES = [("/v1/tasks", "start_time"), ("/v1/tasks", "updated_before"), ("/v1/events", "since")]
TIMES += [("/v1/audits", "until"), ("/v1/batches", "end_time")]
LAST_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).replace(tzinfo=None)
huge = st.one_of(st.integers(min_value=2**63), st.integers(max_value=-1))


@PROPERTY
@given(where=st.sampled_from(PATHS), value=with_nul)
async def test_nul_in_any_path_parameter_answers_400(
    api: httpx.AsyncClient, where: tuple[str, str], value: str
) -> None:
    """A NUL anywhere in a path parameter is a 400 on both backends."""
    method, template = where
    response = await api.request(method, template.format(quote(value, safe="")))
    assert "must not contain NUL" in error_of(response, 400)


@PROPERTY
@given(where=st.sampled_from(FILTERS), value=with_nul)
async def test_nul_in_any_filter_answers_400(
    api: httpx.AsyncClient, where: tuple[str, str], value: str
) -> None:
    """A NUL anywhere in a list filter is a 400 naming the filter."""
    path, name = where
    response = await api.get(path, params={name: value})
    assert error_of(response, 400) == f"Parameter {name!r} must not contain NUL (%00)"


@PROPERTY
@given(priority=st.one_of(st.integers(min_value=2**31), st.integers(max_value=-(2**31) - 1)))
async def test_priority_past_int32_answers_400(api: httpx.AsyncClient, priority: int) -> None:
    """Any priority outside int32, up to and past 64 bits, is a 400 naming 'priority'."""
    response = await api.post("/v1/task/echo", json={"priority": priority})
    assert "'priority'" in error_of(response, 400)


@PROPERTY
@given(number=huge, name=st.sampled_from(["offset", "limit"]))
async def test_huge_batch_paging_answers_400(
    api: httpx.AsyncClient, number: int, name: str
) -> None:
    """Offsets and limits past their range are a 400 naming the parameter."""
    response = await api.get("/v1/batches", params={name: str(number)})
    assert f"Parameter {name!r} must be between" in error_of(response, 400)


@PROPERTY
@given(
    last_id=huge,
    path=st.sampled_from(["/v1/events", "/v1/audits", "/v1/task/{}/events"]),
)
async def test_next_token_with_a_huge_id_answers_400(
    api: httpx.AsyncClient, last_id: int, path: str
) -> None:
    """A next_token decoding to an id past 2**63 - 1 (or negative) is a 400."""
    token = base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode()
    response = await api.get(path.format("0" * 24), params={"next_token": token})
    assert "'next_token'" in error_of(response, 400)


@PROPERTY
@given(
    where=st.sampled_from(TIMES),
    wall=st.datetimes(),
    minutes=st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
@example(where=TIMES[0], wall=LAST_SECOND, minutes=-14 * 60)
@example(where=TIMES[2], wall=LAST_SECOND.replace(year=1, month=1, day=1, hour=0), minutes=60)
async def test_any_time_with_any_offset_is_200_or_400(
    api: httpx.AsyncClient, where: tuple[str, str], wall: datetime, minutes: int
) -> None:
    """A time filter with any offset lists (200) or is refused naming itself (400)."""
    path, name = where
    sign, value = ("+" if minutes >= 0 else "-"), abs(minutes)
    text = f"{wall.isoformat()}{sign}{value // 60:02d}:{value % 60:02d}"
    response = await api.get(path, params={name: text})
    if response.status_code != 200:
        assert f"Parameter {name!r} is out of range in UTC" in error_of(response, 400)


@pytest.mark.pg
@pytest.mark.skipif(not PG_URL, reason="HOOKLINE_TEST_PG_URL is not set")
async def test_a_database_error_is_a_logged_500_without_parameters(tmp_path: Path) -> None:
    """A statement PostgreSQL refuses answers 500 in Scale's shape; the log names only
    the error classes and SQLSTATE, never the key or values the statement carried."""
    assert PG_URL is not None
    url = await create_database(PG_URL)  # not migrated: every table is missing
    store = open_store(url)
    key = "live_" + "ab12" * 11
    try:
        app = create_app(
            store=store,
            settings=load_settings(
                environ={"HOOKLINE_DATABASE_URL": url, "HOOKLINE_FILES_DIR": str(tmp_path)}
            ),
        )
        # raise_app_exceptions stays on: a handler that re-raised would fail the request here.
        async with asgi_client(app) as client:
            with capture_logs() as logs:
                response = await client.get("/v1/tasks", auth=(key, ""))
    finally:
        await store.close()
        await drop_database(url, PG_URL)
    assert error_of(response, 500) == "Internal server error; the incident was logged"
    failed = [entry for entry in logs if entry["event"] == "request_failed"]
    assert failed == [
        {
            "event": "request_failed",
            "log_level": "error",
            "method": "GET",
            "path": "/v1/tasks",
            "error": "ProgrammingError: UndefinedTableError (SQLSTATE 42P01)",
        }
    ]
    assert "ab12ab12" not in repr(logs)
