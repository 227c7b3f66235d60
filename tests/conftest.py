"""Shared fixtures and builders: a migrated database per backend, accounts, in-process API
clients, a fake clock and the `new_task` builder.

Every test works in an account of its own, so tests share one migrated
database per backend and session. PostgreSQL runs when HOOKLINE_TEST_PG_URL
is set (CI sets it) and is skipped otherwise; each session creates a database
of its own on that server and drops it at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import ASGIApp

from hookline.config import Settings, load_settings
from hookline.ingress import create_app
from hookline.models import ALL_SCOPES, Environment, NewTask, Principal, Scope
from hookline.store import Store, open_store

PG_URL = os.environ.get("HOOKLINE_TEST_PG_URL")
PG_SKIP_REASON = "HOOKLINE_TEST_PG_URL is not set"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[pytest.mark.pg, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)],
    ),
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """Report every PostgreSQL skip from one place, so that `-ra` folds them into one line.

    A skipif mark is reported at each test's own line, which made a plain `pytest`
    end with one line per PostgreSQL test; other skips keep their own lines.
    """
    report: pytest.TestReport = yield
    if (
        report.skipped
        and isinstance(report.longrepr, tuple)
        and report.longrepr[2].endswith(PG_SKIP_REASON)
    ):
        report.longrepr = (
            __file__,
            None,
            f"{PG_SKIP_REASON}: PostgreSQL tests skipped "
            "(e.g. HOOKLINE_TEST_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test)",
        )
    return report


async def create_database(url: str) -> str:
    """A new, empty database on the server of `url`; its URL."""
    name = f"hookline_test_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str, admin_url: str) -> None:
    name = sa.make_url(url).database
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    store = open_store(url)
    try:
        await store.migrate()
    finally:
        await store.close()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session (on PostgreSQL, a new one)."""
    urls = {"sqlite": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'hookline.db'}"}
    if PG_URL:
        urls["postgresql"] = asyncio.run(create_database(PG_URL))
    for url in urls.values():
        asyncio.run(_migrate(url))
    yield urls
    if PG_URL:
        asyncio.run(drop_database(urls["postgresql"], PG_URL))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, database_urls: dict[str, str]) -> str:
    return database_urls[backend]


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = open_store(database_url)
    yield opened
    await opened.close()


_accounts = itertools.count()


def unique_name(prefix: str = "acct") -> str:
    return f"{prefix}-{next(_accounts)}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Account:
    name: str
    live_key: str
    test_key: str
    live: Principal
    test: Principal


AccountFactory = Callable[..., Awaitable[Account]]


@pytest.fixture
def account_factory(store: Store) -> AccountFactory:
    """`await account_factory(scopes=...)`: a fresh account with a live and a test key."""

    async def make(*, scopes: frozenset[Scope] = ALL_SCOPES, name: str | None = None) -> Account:
        name = name or unique_name()
        live_key = await store.accounts.create_key(
            account=name, environment=Environment.LIVE, scopes=scopes
        )
        test_key = await store.accounts.create_key(
            account=name, environment=Environment.TEST, scopes=scopes
        )
        live = await store.accounts.authenticate(live_key)
        test = await store.accounts.authenticate(test_key)
        assert live is not None
        assert test is not None
        return Account(name=name, live_key=live_key, test_key=test_key, live=live, test=test)

    return make


@pytest.fixture
async def account(account_factory: AccountFactory) -> Account:
    return await account_factory()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        environ={
            "HOOKLINE_DATABASE_URL": database_url,
            "HOOKLINE_FILES_DIR": str(tmp_path / "files"),
        }
    )


def new_task(task_type: str = "echo", /, **overrides: Any) -> NewTask:
    """A create request as the store takes it: no params, tags, callback or priority unless
    `overrides` set them (any field of NewTask)."""
    plain = NewTask(
        type=task_type,
        instruction=None,
        params={},
        metadata={},
        tags=None,
        unique_id=None,
        project=None,
        batch=None,
        callback_url=None,
        priority=None,
    )
    return dataclasses.replace(plain, **overrides)


class FakeClock:
    """Time that passes only when the test says so (`advance`), or by `step_s` at each reading.

    `clock()` is an aware UTC datetime, as the store reads it (starting now, to the
    millisecond like the store's own clock, so that times the API shows match exactly);
    `clock.monotonic()` the seconds passed since the start plus 1000, as the edge's
    timers read theirs.
    """

    def __init__(self, *, start: datetime | None = None, step_s: float = 0.0) -> None:
        if start is None:
            now = datetime.now(UTC)
            start = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self.now = start
        self._start = self.now
        self._step = timedelta(seconds=step_s)

    def __call__(self) -> datetime:
        now = self.now
        self.now += self._step
        return now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return 1000.0 + (self.now - self._start).total_seconds()


@pytest.fixture
def clock() -> FakeClock:
    """The fake clock of `clocked_store` (a module may override it, e.g. with a step)."""
    return FakeClock()


@pytest.fixture
async def clocked_store(database_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    """A store of the test's database that reads the time from `clock`."""
    opened = open_store(database_url, clock=clock)
    yield opened
    await opened.close()


def asgi_client(
    app: ASGIApp, key: str | None = None, *, address: str | None = None
) -> httpx.AsyncClient:
    """An httpx client of `app` in-process, authenticated by `key` (HTTP Basic, empty
    password); `address` is the client address the app sees."""
    transport = (
        httpx.ASGITransport(app=app)
        if address is None
        else httpx.ASGITransport(app=app, client=(address, 40000))
    )
    return httpx.AsyncClient(
        transport=transport, base_url="http://testserver", auth=(key, "") if key else None
    )


class Clients:
    """`clients(app, key)`: the in-process clients a test opens, closed together at its end."""

    def __init__(self) -> None:
        self._opened: list[httpx.AsyncClient] = []

    def __call__(
        self, app: ASGIApp, key: str | None = None, *, address: str | None = None
    ) -> httpx.AsyncClient:
        client = asgi_client(app, key, address=address)
        self._opened.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._opened:
            await client.aclose()


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    opened = Clients()
    yield opened
    await opened.aclose()


ClientFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
def client_factory(store: Store, settings: Settings, clients: Clients) -> ClientFactory:
    """`client_factory(key)`: an httpx client for the app in-process, authenticated by `key`."""
    app = create_app(store=store, settings=settings)

    def make(key: str | None = None, *, settings_: Settings | None = None) -> httpx.AsyncClient:
        target = app if settings_ is None else create_app(store=store, settings=settings_)
        return clients(target, key)

    return make


@pytest.fixture
def clocked(clocked_store: Store, settings: Settings, clients: Clients) -> ClientFactory:
    """`clocked(key)`: a client for an app whose store reads the time from `clock`."""
    app = create_app(store=clocked_store, settings=settings)

    def make(key: str | None = None) -> httpx.AsyncClient:
        return clients(app, key)

    return make


@pytest.fixture
def api(client_factory: ClientFactory, account: Account) -> httpx.AsyncClient:
    """A client authenticated with the `account` fixture's live key."""
    return client_factory(account.live_key)
