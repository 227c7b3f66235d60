"""API key extraction from Authorization headers, cached key lookups, and the scope check."""

from __future__ import annotations

import asyncio
import base64

import pytest

from hookline.errors import Forbidden, Unauthorized
from hookline.ingress.auth import Authenticator, key_from_header, require_scope
from hookline.models import ALL_SCOPES, Environment, Principal, Scope
from tests.conftest import FakeClock

KEY = "live_0123456789abcdef0123456789abcdef0123456789ab"
OTHER_KEY = "test_0123456789abcdef0123456789abcdef0123456789ab"


def basic(userinfo: str) -> str:
    return "Basic " + base64.b64encode(userinfo.encode()).decode()


def principal_factory(
    *, environment: Environment = Environment.LIVE, scopes: frozenset[Scope] = ALL_SCOPES
) -> Principal:
    return Principal(
        key_id="0123456789ab",
        account_id=1,
        account_name="acme",
        environment=environment,
        scopes=scopes,
        email="ops@acme.example",
    )


class FakeLookup:
    """The key store at the edge: a dict of known keys, recording every lookup."""

    def __init__(self, known: dict[str, Principal]) -> None:
        self.known = known
        self.calls: list[str] = []

    async def __call__(self, key: str) -> Principal | None:
        self.calls.append(key)
        return self.known.get(key)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(basic(f"{KEY}:"), KEY, id="basic-empty-password"),
        pytest.param(basic(KEY), KEY, id="basic-no-colon"),
        pytest.param(basic(f"{KEY}:ignored"), KEY, id="basic-with-password"),
        pytest.param("basic " + basic(f"{KEY}:")[6:], KEY, id="basic-lowercase-scheme"),
        pytest.param(f"Bearer {KEY}", KEY, id="bearer"),
        pytest.param(f"bearer   {KEY}  ", KEY, id="bearer-lowercase-padded"),
    ],
)
def test_key_from_header_reads_basic_and_bearer(header: str, expected: str) -> None:
    """The key is the Basic username or the Bearer token."""
    assert key_from_header(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer   ", id="bearer-blank-token"),
        pytest.param("Basic", id="basic-without-credentials"),
        pytest.param("Basic not*base64!", id="basic-not-base64"),
        pytest.param("Basic " + base64.b64encode(b"\xff\xfe:").decode(), id="basic-not-utf8"),
        pytest.param(basic(":password"), id="basic-empty-username"),
        pytest.param(f"Token {KEY}", id="unknown-scheme"),
        pytest.param(KEY, id="bare-key"),
        pytest.param("garbage", id="garbage"),
    ],
)
def test_key_from_header_gives_none_for_anything_else(header: str | None) -> None:
    """Missing, empty or malformed headers carry no key."""
    assert key_from_header(header) is None


async def test_authenticator_returns_the_principal() -> None:
    """A known key resolves to its principal."""
    who = principal_factory()
    authenticate = Authenticator(FakeLookup({KEY: who}))

    assert await authenticate(basic(f"{KEY}:")) == who


async def test_authenticator_caches_within_ttl() -> None:
    """Repeated requests within ttl_s reuse the first lookup, whichever header form they use."""
    who = principal_factory()
    lookup, clock = FakeLookup({KEY: who}), FakeClock()
    authenticate = Authenticator(lookup, ttl_s=5.0, monotonic=clock.monotonic)

    assert await authenticate(basic(f"{KEY}:")) == who
    clock.advance(4.9)
    assert await authenticate(f"Bearer {KEY}") == who

    assert lookup.calls == [KEY]


async def test_authenticator_looks_up_again_after_ttl() -> None:
    """Once ttl_s has passed, the key is looked up again and a revocation takes effect."""
    who = principal_factory()
    lookup, clock = FakeLookup({KEY: who}), FakeClock()
    authenticate = Authenticator(lookup, ttl_s=5.0, monotonic=clock.monotonic)

    await authenticate(f"Bearer {KEY}")
    del lookup.known[KEY]  # revoked
    clock.advance(4.0)
    assert await authenticate(f"Bearer {KEY}") == who
    clock.advance(1.0)
    with pytest.raises(Unauthorized, match="Invalid or revoked API key"):
        await authenticate(f"Bearer {KEY}")

    assert lookup.calls == [KEY, KEY]


async def test_authenticator_caches_each_key_separately() -> None:
    """Different keys are looked up and cached independently."""
    live, test = principal_factory(), principal_factory(environment=Environment.TEST)
    lookup = FakeLookup({KEY: live, OTHER_KEY: test})
    authenticate = Authenticator(lookup, monotonic=FakeClock().monotonic)

    assert await authenticate(f"Bearer {KEY}") == live
    assert await authenticate(f"Bearer {OTHER_KEY}") == test
    assert await authenticate(f"Bearer {KEY}") == live

    assert lookup.calls == [KEY, OTHER_KEY]


async def test_authenticator_rejects_unknown_keys_and_caches_the_answer() -> None:
    """A key the lookup does not know raises Unauthorized, and is not looked up again in ttl."""
    lookup = FakeLookup({})
    authenticate = Authenticator(lookup, ttl_s=5.0, monotonic=FakeClock().monotonic)

    for _ in range(2):
        with pytest.raises(Unauthorized, match="Invalid or revoked API key"):
            await authenticate(f"Bearer {KEY}")

    assert lookup.calls == [KEY]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("Basic ###", id="malformed"),
    ],
)
async def test_authenticator_rejects_missing_header_without_lookup(header: str | None) -> None:
    """No usable key raises Unauthorized with the how-to message and never calls the lookup."""
    lookup = FakeLookup({KEY: principal_factory()})
    authenticate = Authenticator(lookup)

    with pytest.raises(Unauthorized, match="Send it as HTTP Basic username"):
        await authenticate(header)

    assert lookup.calls == []


async def test_authenticator_evicts_oldest_entry_past_max_entries() -> None:
    """With max_entries reached, the oldest cached key is dropped and looked up again."""
    lookup = FakeLookup({KEY: principal_factory(), OTHER_KEY: principal_factory()})
    authenticate = Authenticator(lookup, max_entries=1, monotonic=FakeClock().monotonic)

    await authenticate(f"Bearer {KEY}")
    await authenticate(f"Bearer {OTHER_KEY}")
    await authenticate(f"Bearer {KEY}")

    assert lookup.calls == [KEY, OTHER_KEY, KEY]


class GatedLookup(FakeLookup):
    """A lookup that waits until the test opens the gate (or fails when told to)."""

    def __init__(self, known: dict[str, Principal], *, error: Exception | None = None) -> None:
        super().__init__(known)
        self.gate = asyncio.Event()
        self.error = error

    async def __call__(self, key: str) -> Principal | None:
        self.calls.append(key)
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.known.get(key)


async def test_concurrent_misses_share_one_lookup() -> None:
    """Fifty requests with an uncached key make one database lookup, and all get its answer."""
    lookup = GatedLookup({KEY: principal_factory()})
    auth = Authenticator(lookup, monotonic=FakeClock().monotonic)
    requests = [asyncio.create_task(auth(basic(f"{KEY}:"))) for _ in range(50)]
    await asyncio.sleep(0)
    lookup.gate.set()
    found = await asyncio.gather(*requests)
    assert lookup.calls == [KEY]
    assert {p.account_name for p in found} == {"acme"}


async def test_a_failed_shared_lookup_fails_every_waiter_and_is_not_cached() -> None:
    """A lookup error reaches each request that waited on it; the next request looks up again."""
    lookup = GatedLookup({KEY: principal_factory()}, error=OSError("database down"))
    auth = Authenticator(lookup, monotonic=FakeClock().monotonic)
    requests = [asyncio.create_task(auth(basic(f"{KEY}:"))) for _ in range(3)]
    await asyncio.sleep(0)
    lookup.gate.set()
    results = await asyncio.gather(*requests, return_exceptions=True)
    assert [type(r) for r in results] == [OSError] * 3
    lookup.error = None
    assert (await auth(basic(f"{KEY}:"))).account_name == "acme"
    assert lookup.calls == [KEY, KEY]


async def test_waiters_survive_the_cancellation_of_the_request_that_looked_up() -> None:
    """If the request doing the lookup is cancelled (its client left), the others still answer."""
    lookup = GatedLookup({KEY: principal_factory()})
    auth = Authenticator(lookup, monotonic=FakeClock().monotonic)
    leader = asyncio.create_task(auth(basic(f"{KEY}:")))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(auth(basic(f"{KEY}:")))
    await asyncio.sleep(0)
    leader.cancel()
    await asyncio.sleep(0)
    lookup.gate.set()
    assert (await waiter).account_name == "acme"
    assert leader.cancelled()


S, W, A, ADMIN = Scope.SUBMIT, Scope.WORK, Scope.AUDIT, Scope.ADMIN


@pytest.mark.parametrize(
    ("scopes", "needed", "allowed"),
    [
        pytest.param({S}, S, True, id="exact"),
        pytest.param({W}, S, False, id="another-scope"),
        pytest.param({S, W, A}, ADMIN, False, id="all-but-admin-is-no-admin"),
        pytest.param({ADMIN}, W, True, id="admin-grants-work"),
        pytest.param({ADMIN}, ADMIN, True, id="admin-itself"),
        pytest.param(set(), A, False, id="no-scopes"),
    ],
)
def test_a_key_has_a_scope_it_carries_or_through_admin(
    scopes: set[Scope], needed: Scope, allowed: bool
) -> None:
    """A key has the scopes it carries, and every scope when it carries admin."""
    who = principal_factory(scopes=frozenset(scopes))
    assert who.has_scope(needed) is allowed


@pytest.mark.parametrize(
    ("scopes", "needed"),
    [
        pytest.param({S}, S, id="has-it"),
        pytest.param({ADMIN}, A, id="admin"),
        pytest.param(set(), None, id="none-needed"),
    ],
)
def test_require_scope_lets_a_key_with_the_scope_through(
    scopes: set[Scope], needed: Scope | None
) -> None:
    """The route check passes a key that has the endpoint's scope, and anyone where none is needed."""
    require_scope(principal_factory(scopes=frozenset(scopes)), needed)


def test_require_scope_refuses_a_key_without_it_naming_the_scope() -> None:
    """A key without the endpoint's scope is Forbidden, and the message names the scope."""
    with pytest.raises(Forbidden, match="lacks the 'audit' scope"):
        require_scope(principal_factory(scopes=frozenset({S, W})), A)
