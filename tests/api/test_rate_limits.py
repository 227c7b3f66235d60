"""Rate limits: per API key and scope, and per client address after failed authentication."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from hookline.config import RateLimitsSettings, Settings
from hookline.ingress import create_app
from hookline.ingress.ratelimits import address_key
from hookline.store import Store
from tests.api.support import error_of, ok
from tests.conftest import Account, AccountFactory, Clients

Connect = Callable[..., httpx.AsyncClient]


@pytest.fixture
def app_with(store: Store, settings: Settings, clients: Clients) -> Callable[..., Connect]:
    """`app_with(**rate_limits)`: one app; its `connect(key, address=...)` makes clients of it."""

    def make(**limits: Any) -> Connect:
        app = create_app(
            store=store,
            settings=dataclasses.replace(settings, rate_limits=RateLimitsSettings(**limits)),
        )

        def connect(key: str | None = None, *, address: str = "127.0.0.1") -> httpx.AsyncClient:
            return clients(app, key, address=address)

        return connect

    return make


def retry_after(response: httpx.Response) -> int:
    """The response's Retry-After, asserted to be whole seconds of at least 1."""
    value = response.headers["retry-after"]
    assert value.isdigit(), value
    assert int(value) >= 1
    return int(value)


async def test_a_key_over_its_submit_rate_gets_429_with_retry_after(
    app_with: Callable[..., Connect], account: Account
) -> None:
    """Past its burst a key's submits are 429 in Scale's shape, naming the setting and the wait."""
    connect = app_with(submit_per_s=0.5, submit_burst=2)
    api = connect(account.live_key)
    for _ in range(2):
        ok(await api.post("/v1/task/echo", json={}))
    refused = await api.post("/v1/task/echo", json={})
    message = error_of(refused, 429)
    assert "rate_limits.submit_per_s" in message
    assert "retry after 2 s" in message
    assert retry_after(refused) == 2


async def test_scopes_and_keys_have_separate_buckets(
    app_with: Callable[..., Connect], account_factory: AccountFactory
) -> None:
    """A key out of submits may still read, and another key may still submit."""
    connect = app_with(submit_per_s=0.01, submit_burst=1, read_per_s=0.01, read_burst=3)
    first, second = await account_factory(), await account_factory()
    api = connect(first.live_key)
    ok(await api.post("/v1/task/echo", json={}))
    error_of(await api.post("/v1/task/echo", json={}), 429)
    ok(await api.get("/v1/tasks"))
    ok(await connect(first.test_key).post("/v1/task/echo", json={}))
    ok(await connect(second.live_key).post("/v1/task/echo", json={}))


async def test_a_rate_of_zero_leaves_that_scope_unlimited(
    app_with: Callable[..., Connect], account: Account
) -> None:
    """`read_per_s = 0` turns the read limit off while the submit limit stays."""
    connect = app_with(read_per_s=0, read_burst=0, submit_per_s=0.01, submit_burst=1)
    api = connect(account.live_key)
    for _ in range(5):
        ok(await api.get("/v1/tasks"))
    ok(await api.post("/v1/task/echo", json={}))
    error_of(await api.post("/v1/task/echo", json={}), 429)


async def test_failed_authentications_block_the_address_before_the_key_is_read(
    app_with: Callable[..., Connect], account: Account
) -> None:
    """After N 401s an address gets 429, even with a valid key; other addresses are unaffected."""
    connect = app_with(failed_auth_per_minute=3)
    for _ in range(3):
        error_of(await connect("live_wrong").get("/v1/tasks"), 401)
    refused = await connect(account.live_key).get("/v1/tasks")
    message = error_of(refused, 429)
    assert "from 127.0.0.1" in message
    assert "rate_limits.failed_auth_per_minute" in message
    assert retry_after(refused) == 20  # one failure's worth at 3 a minute
    ok(await connect(account.live_key, address="127.0.0.2").get("/v1/tasks"))
    error_of(await connect("live_wrong", address="127.0.0.3").get("/v1/tasks"), 401)


async def test_a_missing_key_counts_as_a_failed_authentication(
    app_with: Callable[..., Connect],
) -> None:
    """Requests without any key count too: every 401 does."""
    connect = app_with(failed_auth_per_minute=2)
    anonymous = connect()
    error_of(await anonymous.get("/v1/tasks"), 401)
    error_of(await anonymous.post("/v1/task/echo", json={}), 401)
    error_of(await anonymous.get("/v1/tasks"), 429)


async def test_health_and_openapi_are_not_limited(app_with: Callable[..., Connect]) -> None:
    """A blocked address still reaches /healthz, /readyz, the OpenAPI document and /docs."""
    connect = app_with(failed_auth_per_minute=1)
    anonymous = connect()
    error_of(await anonymous.get("/v1/tasks"), 401)
    error_of(await anonymous.get("/v1/tasks"), 429)
    for path in ("/healthz", "/readyz", "/v1/openapi.json"):
        ok(await anonymous.get(path))
    for path in ("/docs", "/docs/static/swagger-ui-bundle.js"):
        assert (await anonymous.get(path)).status_code == 200
    # /metrics stays behind the failed-auth limit: with metrics.require_key it takes a key.
    error_of(await anonymous.get("/metrics"), 429)


async def test_becoming_blocked_is_logged_once(app_with: Callable[..., Connect]) -> None:
    """The moment an address is blocked is one warning naming it; later 401s add none."""
    connect = app_with(failed_auth_per_minute=2, trusted_proxies=[])
    with capture_logs() as logs:
        for _ in range(2):
            error_of(await connect("live_wrong", address="198.51.100.7").get("/v1/tasks"), 401)
        error_of(await connect("live_wrong", address="198.51.100.7").get("/v1/tasks"), 429)
    limited = [e for e in logs if e["event"] == "failed_auth_limited"]
    assert limited == [
        {"event": "failed_auth_limited", "log_level": "warning", "client": "198.51.100.7",
         "per_minute": 2}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("limits", "forwarded_for", "shared"),
    [
        pytest.param({}, ("203.0.113.9", "203.0.113.10"), False, id="loopback-proxy-believed"),
        pytest.param(
            {"trusted_proxies": []}, ("203.0.113.9", "203.0.113.10"), True, id="no-proxy-believed"
        ),
        pytest.param(
            {"trusted_proxies": ["10.0.0.0/8"]},
            ("203.0.113.9", "203.0.113.10"),
            True,
            id="peer-not-in-the-list",
        ),
        pytest.param(
            {},
            ("203.0.113.9, 127.0.0.1", "203.0.113.10, 127.0.0.1"),
            False,
            id="chain-of-trusted-proxies",
        ),
    ],
)
async def test_x_forwarded_for_is_believed_only_from_trusted_proxies(
    app_with: Callable[..., Connect],
    limits: dict[str, Any],
    forwarded_for: tuple[str, str],
    shared: bool,
) -> None:
    """Clients behind a trusted proxy count separately; a header from anyone else changes nothing."""
    connect = app_with(failed_auth_per_minute=1, **limits)
    first, second = forwarded_for
    client = connect("live_wrong")
    error_of(await client.get("/v1/tasks", headers={"x-forwarded-for": first}), 401)
    error_of(await client.get("/v1/tasks", headers={"x-forwarded-for": first}), 429)
    answer = await client.get("/v1/tasks", headers={"x-forwarded-for": second})
    error_of(answer, 429 if shared else 401)


async def test_disabled_rate_limits_limit_nothing(
    app_with: Callable[..., Connect], account: Account
) -> None:
    """With `enabled = false` neither keys nor failing addresses are limited."""
    connect = app_with(enabled=False, failed_auth_per_minute=1, submit_per_s=0.01, submit_burst=1)
    for _ in range(3):
        error_of(await connect("live_wrong").get("/v1/tasks"), 401)
    api = connect(account.live_key)
    for _ in range(3):
        ok(await api.post("/v1/task/echo", json={}))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("192.0.2.1", "192.0.2.1", id="ipv4"),
        pytest.param("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", id="ipv6-is-its-64"),
        pytest.param("::ffff:192.0.2.1", "192.0.2.1", id="ipv4-mapped"),
        pytest.param(None, "unknown", id="no-peer"),
        pytest.param("not:an:address", "not:an:address", id="unparsable-kept"),
    ],
)
def test_address_key(host: str | None, expected: str) -> None:
    """Failures count per IPv4 address and per IPv6 /64."""
    assert address_key(host) == expected


async def test_openapi_lists_429_for_every_endpoint(api: httpx.AsyncClient) -> None:
    """Every v1 operation in the OpenAPI document may answer 429."""
    document = ok(await api.get("/v1/openapi.json"))
    operations = [
        operation
        for path, methods in document["paths"].items()
        if path.startswith("/v1/") and path != "/v1/openapi.json"
        for operation in methods.values()
    ]
    assert operations
    assert all("429" in operation["responses"] for operation in operations)
